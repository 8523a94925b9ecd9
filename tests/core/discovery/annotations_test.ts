import assert from "node:assert/strict";
import { AnnotationDiscoverer, labelSelectorOf } from "../../../core/discovery/annotations.ts";
import { tlsBackend } from "../../sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../../sandbox/server.ts";
import { issueCertificate } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
  withSandbox,
} from "./_discovery_harness.ts";

function annotatedService(
  name: string,
  annotations: Record<string, string>,
  ports: { name?: string; port: number }[] = [{ name: "https", port: 443 }],
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "web", annotations },
    spec: { type: "ClusterIP", selector: { app: name }, ports },
  };
}

Deno.test("annotation invalid values name object and key", async () => {
  await withSandbox({
    objects: [annotatedService("shop", {
      "trustwatch.dev/enabled": "true",
      "trustwatch.dev/severity": "urgent",
      "trustwatch.dev/ports": "https,70000",
      "trustwatch.dev/sni": "not a name",
      "trustwatch.dev/external-targets": "ftp://files.example.com\nhttps://",
      "trustwatch.dev/sever1ty": "warn",
    })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new AnnotationDiscoverer(), { kube, sandbox });
    const invalid = snapshot.findings.filter((finding) =>
      finding.findingType === "ANNOTATION_INVALID"
    );
    assert.deepEqual(invalid.map((finding) => finding.target).sort(), [
      "trustwatch.dev/external-targets",
      "trustwatch.dev/external-targets",
      "trustwatch.dev/ports",
      "trustwatch.dev/sever1ty",
      "trustwatch.dev/severity",
      "trustwatch.dev/sni",
    ]);
    for (const finding of invalid) {
      assert.equal(finding.severity, "warn");
      assert.match(
        finding.probeError ?? "",
        new RegExp(`^service web/shop: ${finding.target!.replace(".", "\\.")} `),
      );
    }
    const severity = invalid.find((finding) => finding.target === "trustwatch.dev/severity")!;
    assert.match(severity.probeError ?? "", /is "urgent"; expected critical, warn, info/);
    const probed = snapshot.findings.find((finding) => finding.target === "shop.web.svc:443");
    assert.ok(probed, "the valid port is still probed");
  });
});

Deno.test("annotation without enabled is reported", async () => {
  await withSandbox({
    objects: [
      annotatedService("vault", { "trustwatch.dev/external-targets": "https://vault.example.com" }),
      annotatedService("off", { "trustwatch.dev/enabled": "false", "trustwatch.dev/ports": "x y" }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new AnnotationDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn annotation web/vault trustwatch.dev/enabled ANNOTATION_INVALID",
    ]);
    assert.match(snapshot.findings[0].probeError ?? "", /trustwatch\.dev\/enabled is missing/);
  });
});

Deno.test("annotation service probed with SNI and severity", async () => {
  const ca = await issueCertificate({ commonName: "web CA", isCA: true });
  const leaf = await issueCertificate({
    commonName: "shop",
    dnsNames: ["shop.example.com"],
    issuer: ca,
  });
  const port = await freePort();
  await withSandbox({
    objects: [
      annotatedService("shop", {
        "trustwatch.dev/enabled": "true",
        "trustwatch.dev/sni": "www.example.com",
        "trustwatch.dev/severity": "critical",
        "trustwatch.dev/ports": "tls",
      }, [{ name: "http", port: 80 }, { name: "tls", port }]),
      tlsBackend({
        name: "shop",
        hosts: ["shop.web.svc"],
        port,
        chainPem: leaf.certPem,
        keyPem: leaf.keyPem,
      }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new AnnotationDiscoverer(), { kube, sandbox });
    const finding = onlyFinding(snapshot, () => true, "the service");
    assert.equal(finding.target, `shop.web.svc:${port}`);
    assert.equal(finding.sni, "www.example.com");
    assert.equal(finding.findingType, "NAME_MISMATCH");
    assert.equal(
      finding.severity,
      "critical",
      "trustwatch.dev/severity sets the severity of a problem",
    );
  });
});

Deno.test("annotation external targets are probed", async () => {
  const ca = await issueCertificate({ commonName: "web CA", isCA: true });
  const leaf = await issueCertificate({
    commonName: "idp",
    dnsNames: ["idp.example.com"],
    issuer: ca,
  });
  const port = await freePort();
  await withSandbox({
    objects: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: "vault",
          namespace: "security",
          annotations: {
            "trustwatch.dev/enabled": "true",
            "trustwatch.dev/external-targets":
              `\ntcp://idp.example.com:${port}?sni=idp.example.com\n`,
          },
        },
        spec: { type: "ExternalName", externalName: "vault.example.com" },
      },
      tlsBackend({
        name: "idp",
        hosts: ["idp.example.com"],
        port,
        chainPem: leaf.certPem,
        keyPem: leaf.keyPem,
      }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new AnnotationDiscoverer(), { kube, sandbox });
    const external = onlyFinding(
      snapshot,
      (finding) => finding.target === `idp.example.com:${port}`,
      "the external target",
    );
    assert.equal(external.source, "annotation");
    assert.equal(external.name, "vault");
    assert.equal(external.probeOk, true);
    assert.match(external.notes ?? "", /external target tcp:\/\/idp\.example\.com/);
    const externalName = onlyFinding(
      snapshot,
      (finding) => finding.target === "vault.example.com:443",
      "the ExternalName host",
    );
    assert.equal(externalName.findingType, "PROBE_FAILED", "vault.example.com is never dialed");
  });
});

Deno.test("annotation label selector forms", () => {
  assert.equal(
    labelSelectorOf({
      matchLabels: { app: "api" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["web", "edge"] },
        { key: "canary", operator: "DoesNotExist" },
      ],
    }),
    "app=api,tier in (web,edge),!canary",
  );
  assert.equal(labelSelectorOf({}), undefined);
});

Deno.test("annotation forbidden tls-secret still probes", async () => {
  const objects = [annotatedService("shop", {
    "trustwatch.dev/enabled": "true",
    "trustwatch.dev/tls-secret": "shop-tls",
  })];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ kube }) => {
    const targets = await discoverAll(new AnnotationDiscoverer(), discoveryContext(kube));
    assert.deepEqual(
      targets.map((target) => target.kind === "problem" ? target.findingType : target.kind),
      ["READ_FORBIDDEN", "endpoint"],
    );
    const problem = targets[0];
    assert.ok(problem.kind === "problem");
    assert.match(
      problem.message,
      /^service web\/shop: get secret web\/shop-tls is forbidden/,
    );
    assert.deepEqual(problem.ref, { resource: "secret", namespace: "web", name: "shop-tls" });
  });
});
