import assert from "node:assert/strict";
import { defaultConfig } from "../../../core/config.ts";
import { IstioDiscoverer } from "../../../core/discovery/istio.ts";
import type { KubeObject } from "../../sandbox/server.ts";
import { issueCertificate } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
  toBase64,
  withSandbox,
} from "./_discovery_harness.ts";

const REALDATA = new URL("../../../../shared/realdata/", import.meta.url).pathname;
const hasRealdata = (() => {
  try {
    return Deno.statSync(REALDATA).isDirectory;
  } catch {
    return false;
  }
})();

function caSecret(name: string, namespace: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, toBase64(value)])),
  };
}

Deno.test("istio plug-in CA from another root is critical", async () => {
  const root = await issueCertificate({ commonName: "mesh root", isCA: true });
  const otherRoot = await issueCertificate({ commonName: "other root", isCA: true });
  const intermediate = await issueCertificate({
    commonName: "mesh intermediate",
    isCA: true,
    issuer: otherRoot,
  });
  await withSandbox({
    objects: [caSecret("cacerts", "istio-system", {
      "ca-cert.pem": intermediate.certPem,
      "ca-key.pem": intermediate.keyPem,
      "root-cert.pem": root.certPem,
      "cert-chain.pem": intermediate.certPem + root.certPem,
    })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new IstioDiscoverer(), { kube, sandbox });
    const caCert = onlyFinding(snapshot, (finding) => finding.target === "ca-cert.pem", "ca-cert");
    assert.equal(caCert.severity, "critical");
    assert.equal(caCert.findingType, "CHAIN_INVALID");
    assert.match(
      caCert.notes ?? "",
      /does not chain to root-cert\.pem of secret istio-system\/cacerts/,
    );
    assert.ok(
      !snapshot.findings.some((finding) => finding.target?.startsWith("ca-key")),
      "private keys are never read",
    );
  });
});

Deno.test("istio CA chains through cert-chain.pem", async () => {
  const root = await issueCertificate({ commonName: "mesh root", isCA: true });
  const intermediate = await issueCertificate({
    commonName: "mesh intermediate",
    isCA: true,
    issuer: root,
  });
  const clusterCa = await issueCertificate({
    commonName: "cluster CA",
    isCA: true,
    issuer: intermediate,
  });
  await withSandbox({
    objects: [caSecret("cacerts", "istio-system", {
      "ca-cert.pem": clusterCa.certPem,
      "root-cert.pem": root.certPem,
      "cert-chain.pem": clusterCa.certPem + intermediate.certPem + root.certPem,
    })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new IstioDiscoverer(), { kube, sandbox });
    const caCert = onlyFinding(snapshot, (finding) => finding.target === "ca-cert.pem", "ca-cert");
    assert.equal(caCert.severity, "info");
    assert.deepEqual(caCert.issuerChain, [intermediate.subject, root.subject]);
    assert.deepEqual(
      snapshot.findings.map((finding) => finding.target).sort(),
      [
        "ca-cert.pem",
        "cert-chain.pem[0]",
        "cert-chain.pem[1]",
        "cert-chain.pem[2]",
        "root-cert.pem",
      ],
    );
  });
});

Deno.test("istio namespace and root ConfigMap", async () => {
  const root = await issueCertificate({ commonName: "mesh root", isCA: true });
  await withSandbox({
    objects: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "istio-ca-root-cert", namespace: "istio-prod" },
        data: { "root-cert.pem": root.certPem },
      },
      caSecret("istio-ca-secret", "istio-prod", {
        "ca-cert.pem": root.certPem,
        "root-cert.pem": root.certPem,
        "cert-chain.pem": "",
        "key.pem": "",
      }),
    ],
  }, async ({ kube, sandbox }) => {
    const discoverer = new IstioDiscoverer();
    assert.deepEqual(await discoverAll(discoverer, discoveryContext(kube)), []);
    const config = { ...defaultConfig(), istioNamespace: "istio-prod" };
    const snapshot = await scanWith(discoverer, { kube, sandbox, config });
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "info mesh.istio istio-prod/istio-ca-root-cert root-cert.pem -",
      "info mesh.istio istio-prod/istio-ca-secret ca-cert.pem -",
      "info mesh.istio istio-prod/istio-ca-secret root-cert.pem -",
    ]);
  });
});

Deno.test("istio CA Secret without certificates is critical", async () => {
  await withSandbox({
    objects: [caSecret("istio-ca-secret", "istio-system", { "ca-cert.pem": "", "key.pem": "" })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new IstioDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "critical mesh.istio istio-system/istio-ca-secret ca-cert.pem CERT_MISSING",
    ]);
  });
});

Deno.test({
  name: "istio realdata samples read without errors",
  ignore: !hasRealdata,
  async fn() {
    await withSandbox({
      manifests: [
        `${REALDATA}k8s/mesh/istio/cacerts-plugin-ca-samples.yaml`,
        `${REALDATA}k8s/mesh/istio/istio-ca-secret-selfsigned.yaml`,
      ],
    }, async ({ kube, sandbox }) => {
      const snapshot = await scanWith(new IstioDiscoverer(), { kube, sandbox });
      assert.deepEqual(snapshot.errors, []);
      assert.deepEqual(snapshot.findings.map(summarize).sort(), [
        "info mesh.istio istio-system/cacerts ca-cert.pem -",
        "info mesh.istio istio-system/cacerts cert-chain.pem -",
        "info mesh.istio istio-system/cacerts root-cert.pem -",
        "info mesh.istio istio-system/istio-ca-secret ca-cert.pem -",
        "info mesh.istio istio-system/istio-ca-secret root-cert.pem -",
      ]);
    });
  },
});

Deno.test("istio forbidden CA Secrets are findings", async () => {
  const root = await issueCertificate({ commonName: "mesh root", isCA: true });
  const objects: KubeObject[] = [
    caSecret("istio-ca-secret", "istio-system", { "ca-cert.pem": root.certPem }),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "istio-ca-root-cert", namespace: "istio-system" },
      data: { "root-cert.pem": root.certPem },
    },
  ];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new IstioDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "critical mesh.istio istio-system/cacerts ca-cert.pem READ_FORBIDDEN",
      "critical mesh.istio istio-system/istio-ca-secret ca-cert.pem READ_FORBIDDEN",
      "info mesh.istio istio-system/istio-ca-root-cert root-cert.pem -",
    ]);
    assert.match(
      snapshot.findings[1].probeError ?? "",
      /^Istio CA secret istio-system\/istio-ca-secret: get secret istio-system\/istio-ca-secret is forbidden/,
    );
  });
});
