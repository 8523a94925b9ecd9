import assert from "node:assert/strict";
import { defaultConfig } from "../../../core/config.ts";
import { LinkerdDiscoverer } from "../../../core/discovery/linkerd.ts";
import type { KubeObject } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate, pemBundle } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
  toBase64,
  withSandbox,
} from "./_discovery_harness.ts";

function trustRoots(namespace: string, pem: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "linkerd-identity-trust-roots", namespace },
    data: { "ca-bundle.crt": pem },
  };
}

function issuerSecret(namespace: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "linkerd-identity-issuer", namespace },
    type: "kubernetes.io/tls",
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, toBase64(value)])),
  };
}

Deno.test("linkerd issuer from another root is critical", async () => {
  const anchor = await issueCertificate({ commonName: "root.linkerd.cluster.local", isCA: true });
  const strangeRoot = await issueCertificate({ commonName: "other root", isCA: true });
  const issuer = await issueCertificate({
    commonName: "identity.linkerd.cluster.local",
    isCA: true,
    issuer: strangeRoot,
  });
  await withSandbox({
    objects: [
      trustRoots("linkerd", anchor.certPem),
      issuerSecret("linkerd", { "tls.crt": issuer.certPem, "tls.key": issuer.keyPem }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new LinkerdDiscoverer(), { kube, sandbox });
    const finding = onlyFinding(
      snapshot,
      (finding) => finding.name === "linkerd-identity-issuer",
      "the issuer",
    );
    assert.equal(finding.target, "tls.crt", "tls.crt is read when crt.pem is absent");
    assert.equal(finding.severity, "critical");
    assert.equal(finding.findingType, "CHAIN_INVALID");
    assert.match(
      finding.notes ?? "",
      /does not chain to the trust anchors in configmap linkerd\/linkerd-identity-trust-roots/,
    );
    const roots = onlyFinding(
      snapshot,
      (finding) => finding.name === "linkerd-identity-trust-roots",
      "the anchors",
    );
    assert.equal(roots.severity, "info");
  });
});

Deno.test("linkerd namespace comes from the config", async () => {
  const anchor = await issueCertificate({
    commonName: "root.linkerd.cluster.local",
    isCA: true,
    notAfter: daysFromNow(20),
  });
  const issuer = await issueCertificate({
    commonName: "identity.linkerd.cluster.local",
    isCA: true,
    issuer: anchor,
    notAfter: daysFromNow(19),
  });
  await withSandbox({
    objects: [
      trustRoots("mesh", anchor.certPem),
      issuerSecret("mesh", { "crt.pem": issuer.certPem, "tls.crt": "ignored" }),
    ],
  }, async ({ kube, sandbox }) => {
    const discoverer = new LinkerdDiscoverer();
    assert.deepEqual(await discoverAll(discoverer, discoveryContext(kube)), []);

    const config = { ...defaultConfig(), linkerdNamespace: "mesh" };
    const snapshot = await scanWith(discoverer, { kube, sandbox, config });
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "warn mesh.linkerd mesh/linkerd-identity-issuer crt.pem EXPIRING",
      "warn mesh.linkerd mesh/linkerd-identity-trust-roots ca-bundle.crt EXPIRING",
    ]);
    const issuerFinding = snapshot.findings.find((finding) => finding.target === "crt.pem")!;
    assert.deepEqual(issuerFinding.issuerChain, [anchor.subject]);
  });
});

Deno.test("linkerd bundle reports each anchor", async () => {
  const current = await issueCertificate({ commonName: "root.linkerd.cluster.local", isCA: true });
  const next = await issueCertificate({
    commonName: "next root.linkerd.cluster.local",
    isCA: true,
    notAfter: daysFromNow(5),
  });
  await withSandbox({
    objects: [trustRoots("linkerd", pemBundle(current, next))],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new LinkerdDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "critical mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt[1] EXPIRING",
      "info mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt[0] -",
    ]);
  });
});

Deno.test("linkerd empty trust roots are critical", async () => {
  await withSandbox({
    objects: [trustRoots("linkerd", "")],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new LinkerdDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "critical mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt CERT_MISSING",
    ]);
  });
});

Deno.test("linkerd absent yields no targets", async () => {
  await withSandbox({}, async ({ kube }) => {
    const targets = await discoverAll(new LinkerdDiscoverer(), discoveryContext(kube));
    assert.deepEqual(targets, []);
  });
});

Deno.test("linkerd outside scanned namespaces is skipped", async () => {
  const anchor = await issueCertificate({ commonName: "root", isCA: true });
  await withSandbox({ objects: [trustRoots("linkerd", anchor.certPem)] }, async ({ kube }) => {
    const scoped = discoveryContext(kube, { namespaces: ["payments"] });
    assert.deepEqual(await discoverAll(new LinkerdDiscoverer(), scoped), []);
    const included = discoveryContext(kube, { namespaces: ["linkerd"] });
    assert.equal((await discoverAll(new LinkerdDiscoverer(), included)).length, 1);
  });
});

Deno.test("linkerd forbidden issuer is critical", async () => {
  const anchor = await issueCertificate({ commonName: "root.linkerd.cluster.local", isCA: true });
  const issuer = await issueCertificate({
    commonName: "identity.linkerd.cluster.local",
    isCA: true,
    issuer: anchor,
  });
  const objects = [
    trustRoots("linkerd", anchor.certPem),
    issuerSecret("linkerd", { "tls.crt": issuer.certPem }),
  ];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new LinkerdDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "critical mesh.linkerd linkerd/linkerd-identity-issuer crt.pem or tls.crt READ_FORBIDDEN",
      "info mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt -",
    ]);
    assert.match(
      snapshot.findings[0].probeError ?? "",
      /get secret linkerd\/linkerd-identity-issuer is forbidden/,
    );
  });
});

Deno.test("linkerd unreadable namespace is an error", async () => {
  const anchor = await issueCertificate({ commonName: "root.linkerd.cluster.local", isCA: true });
  const objects = [trustRoots("linkerd", anchor.certPem)];

  await withSandbox({ objects, forbiddenNamespaces: ["linkerd"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new LinkerdDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings, []);
    assert.equal(snapshot.errors.length, 1);
    assert.equal(snapshot.errors[0].source, "mesh.linkerd");
    assert.match(snapshot.errors[0].message, /kubectl auth can-i get configmaps -n linkerd/);
    assert.match(snapshot.errors[0].message, /kubectl auth can-i get secrets -n linkerd/);
  });
});
