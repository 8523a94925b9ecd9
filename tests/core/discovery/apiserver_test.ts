import assert from "node:assert/strict";
import { ApiServerDiscoverer } from "../../../core/discovery/apiserver.ts";
import type { Target } from "../../../core/target.ts";
import { daysFromNow } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  utf8Bytes,
  withSandbox,
} from "./_discovery_harness.ts";

Deno.test("apiserver discoverer targets the kubeconfig server", async () => {
  await withSandbox({}, async ({ sandbox, kube }) => {
    const targets = await discoverAll(new ApiServerDiscoverer(), discoveryContext(kube));
    const port = Number(new URL(sandbox.url).port);
    const expected: Target[] = [{
      kind: "endpoint",
      source: "k8s.apiserver",
      name: "kube-apiserver",
      failClosed: true,
      endpoint: { host: "127.0.0.1", port, sni: undefined },
      expectedNames: ["127.0.0.1"],
      trust: {
        kind: "anchors",
        pem: utf8Bytes(sandbox.caPem),
        origin: "certificate-authority of kubeconfig context sandbox",
      },
      notes: ["context=sandbox"],
    }];
    assert.deepEqual(targets, expected);
  });
});

Deno.test("apiserver scan reports a healthy certificate as info", async () => {
  await withSandbox({}, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new ApiServerDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const finding = onlyFinding(snapshot, () => true, "the API server");
    assert.equal(finding.severity, "info");
    assert.equal(finding.probeOk, true);
    assert.equal(finding.subject, "CN=kube-apiserver");
    assert.equal(finding.target, `127.0.0.1:${new URL(sandbox.url).port}`);
    assert.equal(finding.chainErrors, undefined);
  });
});

Deno.test("apiserver certificate expiring in 5 days is critical", async () => {
  const notAfter = daysFromNow(5);
  await withSandbox({ apiServerCertificate: { notAfter } }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new ApiServerDiscoverer(), { kube, sandbox });
    const finding = onlyFinding(snapshot, () => true, "the API server");
    assert.equal(finding.severity, "critical");
    assert.equal(finding.findingType, "EXPIRING");
    assert.equal(finding.notAfter, notAfter.toISOString().replace(/\.\d{3}Z$/, "Z"));
  });
});
