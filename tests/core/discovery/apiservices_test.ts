import assert from "node:assert/strict";
import { ApiServiceDiscoverer } from "../../../core/discovery/apiservices.ts";
import type { Target } from "../../../core/target.ts";
import { apiService, service, tlsBackend } from "../../sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate, type IssuedCertificate } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  utf8Bytes,
  withSandbox,
} from "./_discovery_harness.ts";

/** Builds an APIService and drops `spec.service.port`, as a manifest that relies on the default. */
function apiServiceWithoutPort(name: string, caBundlePem: string): KubeObject {
  const object = apiService({
    name,
    service: { namespace: "monitoring", name: "metrics-server" },
    caBundlePem,
  });
  const spec = object.spec as { service: { port?: number } };
  delete spec.service.port;
  return object;
}

Deno.test("apiservice discoverer describes service backends and skips local ones", async () => {
  const ca = await issueCertificate({ commonName: "metrics CA", isCA: true });
  const objects = [
    apiServiceWithoutPort("v1beta1.metrics.k8s.io", ca.certPem),
    apiService({
      name: "v1alpha1.custom.example.com",
      service: { namespace: "custom", name: "api", port: 6443 },
      caBundlePem: ca.certPem,
      insecureSkipTLSVerify: true,
    }),
    apiService({ name: "v1.apps" }),
  ];

  await withSandbox({ objects }, async ({ kube }) => {
    const targets = await discoverAll(new ApiServiceDiscoverer(), discoveryContext(kube));
    const metricsLabel = "apiservice v1beta1.metrics.k8s.io";
    const expected: Target[] = [
      {
        source: "k8s.apiservice",
        name: "v1alpha1.custom.example.com",
        failClosed: true,
        notes: ["service=custom/api", "insecureSkipTLSVerify=true"],
        ref: { resource: "apiservice", name: "v1alpha1.custom.example.com" },
        kind: "endpoint",
        namespace: "custom",
        endpoint: { host: "api.custom.svc", port: 6443, sni: "api.custom.svc" },
        expectedNames: ["api.custom.svc"],
        trust: { kind: "skip", origin: "apiservice v1alpha1.custom.example.com" },
      },
      {
        source: "k8s.apiservice",
        name: "v1beta1.metrics.k8s.io",
        failClosed: true,
        notes: ["service=monitoring/metrics-server"],
        ref: { resource: "apiservice", name: "v1beta1.metrics.k8s.io" },
        kind: "endpoint",
        namespace: "monitoring",
        endpoint: {
          host: "metrics-server.monitoring.svc",
          port: 443,
          sni: "metrics-server.monitoring.svc",
        },
        expectedNames: ["metrics-server.monitoring.svc"],
        trust: {
          kind: "anchors",
          pem: utf8Bytes(ca.certPem),
          origin: `caBundle of ${metricsLabel}`,
          caBundle: true,
        },
      },
      {
        source: "k8s.apiservice",
        name: "v1beta1.metrics.k8s.io",
        namespace: "monitoring",
        failClosed: true,
        notes: [],
        ref: { resource: "apiservice", name: "v1beta1.metrics.k8s.io" },
        kind: "material",
        objectLabel: metricsLabel,
        key: "caBundle",
        bytes: utf8Bytes(ca.certPem),
        caBundle: true,
      },
    ];
    assert.deepEqual(targets, expected);
  });
});

/** Builds an APIService, its backend Service and the sandbox TLS backend that serves it. */
async function backedApiService(
  name: string,
  serviceName: string,
  ca: IssuedCertificate,
  validity: { notBefore: Date; notAfter: Date },
): Promise<KubeObject[]> {
  const port = await freePort();
  const host = `${serviceName}.aggregated.svc`;
  const leaf = await issueCertificate({
    commonName: host,
    dnsNames: [host],
    issuer: ca,
    ...validity,
  });
  return [
    service({ namespace: "aggregated", name: serviceName, port }),
    tlsBackend({
      name: serviceName,
      hosts: [host],
      port,
      chainPem: leaf.certPem,
      keyPem: leaf.keyPem,
    }),
    apiService({
      name,
      service: { namespace: "aggregated", name: serviceName, port },
      insecureSkipTLSVerify: true,
    }),
  ];
}

Deno.test("apiservice with insecureSkipTLSVerify warns but expiry stays critical", async () => {
  const ca = await issueCertificate({ commonName: "aggregated CA", isCA: true });
  const objects = [
    ...await backedApiService("v1.healthy.example.com", "healthy", ca, {
      notBefore: daysFromNow(-1),
      notAfter: daysFromNow(300),
    }),
    ...await backedApiService("v1.expired.example.com", "expired", ca, {
      notBefore: daysFromNow(-90),
      notAfter: daysFromNow(-1),
    }),
    apiService({ name: "v1.batch" }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new ApiServiceDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.equal(snapshot.findings.length, 2, "the local APIService yields no finding");

    const healthy = onlyFinding(
      snapshot,
      (finding) => finding.name === "v1.healthy.example.com",
      "the healthy backend",
    );
    assert.equal(healthy.severity, "warn");
    assert.equal(healthy.findingType, "INSECURE_SKIP_VERIFY");
    assert.equal(healthy.probeOk, true);
    assert.match(healthy.notes ?? "", /insecureSkipTLSVerify/);

    const expired = onlyFinding(
      snapshot,
      (finding) => finding.name === "v1.expired.example.com",
      "the expired backend",
    );
    assert.equal(expired.severity, "critical", "skipping verification must not hide expiry");
    assert.equal(expired.findingType, "EXPIRED");
    assert.match(expired.notes ?? "", /never verified/);
  });
});
