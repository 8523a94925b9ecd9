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
  summarize,
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

Deno.test("apiservice malformed service references become findings", async () => {
  const ca = await issueCertificate({ commonName: "aggregated CA", isCA: true });
  const withService = (name: string, service: unknown, caBundlePem?: string): KubeObject => {
    const object = apiService({
      name,
      service: { namespace: "hostile", name: "x" },
      caBundlePem,
    });
    (object.spec as { service: unknown }).service = service;
    return object;
  };
  const specString = apiService({ name: "v1.spec-string.example.com" });
  specString.spec = "oops";
  const caBundleNumber = withService("v1.cabundle-number.example.com", {
    namespace: "hostile",
    name: "x",
  });
  (caBundleNumber.spec as { caBundle: unknown }).caBundle = 42;
  const objects = [
    withService("v1.no-namespace.example.com", { name: "a" }),
    withService(
      "v1.port-name.example.com",
      { namespace: "hostile", name: "x", port: "https" },
      ca.certPem,
    ),
    withService("v1.service-string.example.com", "x.hostile"),
    specString,
    caBundleNumber,
    ...await backedApiService("v1.healthy.example.com", "healthy", ca, {
      notBefore: daysFromNow(-1),
      notAfter: daysFromNow(300),
    }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new ApiServiceDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const healthyPort = sandbox.backends.find((backend) => backend.name === "healthy")?.port;
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "critical k8s.apiservice v1.cabundle-number.example.com spec.caBundle INVALID_CLIENT_CONFIG",
      "critical k8s.apiservice v1.no-namespace.example.com spec.service.namespace INVALID_CLIENT_CONFIG",
      "critical k8s.apiservice v1.port-name.example.com spec.service.port INVALID_CLIENT_CONFIG",
      "critical k8s.apiservice v1.service-string.example.com spec.service INVALID_CLIENT_CONFIG",
      "critical k8s.apiservice v1.spec-string.example.com spec INVALID_CLIENT_CONFIG",
      "info k8s.apiservice v1.port-name.example.com caBundle -",
      `warn k8s.apiservice aggregated/v1.healthy.example.com healthy.aggregated.svc:${healthyPort} INSECURE_SKIP_VERIFY`,
    ]);
    assert.doesNotMatch(JSON.stringify(snapshot), /undefined/);

    const portName = onlyFinding(
      snapshot,
      (finding) => finding.target === "spec.service.port",
      "the named port",
    );
    assert.equal(
      portName.probeError,
      'apiservice v1.port-name.example.com: spec.service.port is the string "https"; ' +
        "set an integer port from 1 to 65535 (443 when omitted)",
    );
    assert.equal(
      portName.remediation,
      "Fix spec.service.port of apiservice v1.port-name.example.com to the value probeError " +
        "names: kubectl edit apiservice v1.port-name.example.com",
    );
  });
});
