import assert from "node:assert/strict";
import { CrdConversionDiscoverer } from "../../../core/discovery/crd_conversion.ts";
import type { Target } from "../../../core/target.ts";
import { conversionCrd, service, tlsBackend } from "../../sandbox/fixtures.ts";
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

const CRD = "customresourcedefinition";

/** A CRD without a conversion webhook, as most CRDs are. */
function plainCrd(): KubeObject {
  const crd = conversionCrd({ group: "plain.example.com", kind: "Widget" });
  (crd.spec as { conversion: unknown }).conversion = { strategy: "None" };
  return crd;
}

Deno.test("crd conversion discoverer describes webhook clientConfigs", async () => {
  const ca = await issueCertificate({ commonName: "conversion CA", isCA: true });
  const byService = conversionCrd({
    group: "stable.example.com",
    kind: "CronTab",
    service: { namespace: "crontab", name: "converter", path: "/convert" },
    caBundlePem: ca.certPem,
  });
  const byUrl = conversionCrd({
    group: "url.example.com",
    kind: "Gadget",
    url: "https://convert.example.com:9443/convert",
  });

  await withSandbox({ objects: [byService, byUrl, plainCrd()] }, async ({ kube }) => {
    const targets = await discoverAll(new CrdConversionDiscoverer(), discoveryContext(kube));

    const serviceLabel = `${CRD} crontabs.stable.example.com, conversion webhook`;
    const serviceBase = {
      source: "k8s.webhook" as const,
      name: "crd/crontabs.stable.example.com",
      failClosed: true,
      ref: { resource: CRD, name: "crontabs.stable.example.com" },
    };
    const expected: Target[] = [
      {
        ...serviceBase,
        notes: [CRD, "conversion=Webhook", "service=crontab/converter"],
        kind: "endpoint",
        namespace: "crontab",
        endpoint: { host: "converter.crontab.svc", port: 443, sni: "converter.crontab.svc" },
        expectedNames: ["converter.crontab.svc"],
        trust: {
          kind: "anchors",
          pem: utf8Bytes(ca.certPem),
          origin: `caBundle of ${serviceLabel}`,
          caBundle: true,
        },
      },
      {
        ...serviceBase,
        namespace: "crontab",
        notes: [CRD, "conversion=Webhook"],
        kind: "material",
        objectLabel: serviceLabel,
        key: "caBundle",
        bytes: utf8Bytes(ca.certPem),
        caBundle: true,
      },
      {
        source: "k8s.webhook",
        name: "crd/gadgets.url.example.com",
        failClosed: true,
        ref: { resource: CRD, name: "gadgets.url.example.com" },
        notes: [CRD, "conversion=Webhook", "url=https://convert.example.com:9443/convert"],
        kind: "endpoint",
        endpoint: { host: "convert.example.com", port: 9443 },
        expectedNames: ["convert.example.com"],
        trust: { kind: "system" },
      },
    ];
    assert.deepEqual(targets, expected);
  });
});

/** Builds a Service and TLS backend for `<name>.conversion.svc` serving a leaf issued by `issuer`. */
async function converterBackend(
  name: string,
  issuer: IssuedCertificate,
  leafDays = 200,
): Promise<{ port: number; objects: KubeObject[] }> {
  const port = await freePort();
  const host = `${name}.conversion.svc`;
  const leaf = await issueCertificate({
    commonName: host,
    dnsNames: [host],
    issuer,
    notAfter: daysFromNow(leafDays),
  });
  return {
    port,
    objects: [
      service({ namespace: "conversion", name, port }),
      tlsBackend({ name, hosts: [host], port, chainPem: leaf.certPem, keyPem: leaf.keyPem }),
    ],
  };
}

Deno.test("crd conversion scan reports caBundle mismatch and expiry", async () => {
  const trustedCa = await issueCertificate({ commonName: "conversion CA", isCA: true });
  const otherCa = await issueCertificate({ commonName: "rotated conversion CA", isCA: true });
  const expiredCa = await issueCertificate({
    commonName: "expired conversion CA",
    isCA: true,
    notBefore: daysFromNow(-400),
    notAfter: daysFromNow(-3),
  });
  const healthy = await converterBackend("healthy", trustedCa);
  const rotated = await converterBackend("rotated", otherCa);
  const stale = await converterBackend("stale", expiredCa);
  const crd = (kind: string, backend: string, port: number, caBundlePem: string) =>
    conversionCrd({
      group: "conversion.example.com",
      kind,
      service: { namespace: "conversion", name: backend, port },
      caBundlePem,
    });
  const objects = [
    ...healthy.objects,
    ...rotated.objects,
    ...stale.objects,
    crd("Healthy", "healthy", healthy.port, trustedCa.certPem),
    crd("Rotated", "rotated", rotated.port, trustedCa.certPem),
    crd("Stale", "stale", stale.port, expiredCa.certPem),
    plainCrd(),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new CrdConversionDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const finding = (kind: string, target: "endpoint" | "caBundle") =>
      onlyFinding(
        snapshot,
        (candidate) =>
          candidate.name === `crd/${kind}s.conversion.example.com` &&
          (target === "caBundle") === (candidate.target === "caBundle"),
        `${kind} ${target}`,
      );

    const healthyEndpoint = finding("healthy", "endpoint");
    assert.equal(healthyEndpoint.severity, "info");
    assert.equal(healthyEndpoint.findingType, undefined);

    const mismatch = finding("rotated", "endpoint");
    assert.equal(mismatch.severity, "critical");
    assert.equal(mismatch.findingType, "CABUNDLE_MISMATCH");
    assert.equal(mismatch.probeOk, true);
    assert.ok(new Date(mismatch.notAfter) > daysFromNow(150), "the leaf itself is far from expiry");
    assert.match(
      mismatch.notes ?? "",
      /does not verify against caBundle of customresourcedefinition/,
    );
    assert.ok(mismatch.remediation, "a critical finding carries a remediation");
    assert.equal(finding("rotated", "caBundle").severity, "info", "the bundle's CA itself is fine");

    const expiredEndpoint = finding("stale", "endpoint");
    assert.equal(expiredEndpoint.severity, "critical");
    assert.equal(expiredEndpoint.findingType, "CABUNDLE_EXPIRED");
    const expiredBundle = finding("stale", "caBundle");
    assert.equal(expiredBundle.severity, "critical");
    assert.equal(expiredBundle.findingType, "CABUNDLE_EXPIRED");
    assert.equal(expiredBundle.subject, expiredCa.subject);

    assert.equal(
      snapshot.findings.filter((candidate) => candidate.name === "crd/widgets.plain.example.com")
        .length,
      0,
      "a CRD without a conversion webhook yields nothing",
    );
  });
});

Deno.test("crd conversion malformed clientConfigs become findings", async () => {
  const ca = await issueCertificate({ commonName: "conversion CA", isCA: true });
  const healthy = await converterBackend("healthy", ca);
  const withWebhook = (kind: string, webhook: unknown): KubeObject => {
    const crd = conversionCrd({ group: "hostile.example.com", kind, url: "https://unused" });
    (crd.spec as { conversion: { webhook: unknown } }).conversion.webhook = webhook;
    return crd;
  };
  const objects = [
    ...healthy.objects,
    conversionCrd({
      group: "hostile.example.com",
      kind: "Healthy",
      service: { namespace: "conversion", name: "healthy", port: healthy.port },
      caBundlePem: ca.certPem,
    }),
    withWebhook("Missing", undefined),
    withWebhook("StringConfig", { clientConfig: "oops" }),
    withWebhook("NoNamespace", { clientConfig: { service: { name: "a" } } }),
    withWebhook("UserInfo", {
      clientConfig: { url: "https://user:hunter2@convert.example.com/convert" },
    }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new CrdConversionDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const path = "spec.conversion.webhook";
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      `critical k8s.webhook crd/missings.hostile.example.com ${path} INVALID_CLIENT_CONFIG`,
      `critical k8s.webhook crd/nonamespaces.hostile.example.com ${path}.clientConfig.service.namespace INVALID_CLIENT_CONFIG`,
      `critical k8s.webhook crd/stringconfigs.hostile.example.com ${path}.clientConfig INVALID_CLIENT_CONFIG`,
      `critical k8s.webhook crd/userinfos.hostile.example.com ${path}.clientConfig.url INVALID_URL`,
      "info k8s.webhook conversion/crd/healthys.hostile.example.com caBundle -",
      `info k8s.webhook conversion/crd/healthys.hostile.example.com healthy.conversion.svc:${healthy.port} -`,
    ]);
    assert.doesNotMatch(JSON.stringify(snapshot), /undefined|hunter2/);

    const missing = onlyFinding(
      snapshot,
      (finding) => finding.name === "crd/missings.hostile.example.com",
      "the CRD without a webhook",
    );
    assert.equal(
      missing.probeError,
      `${CRD} missings.hostile.example.com, conversion webhook: ${path} is missing; set ` +
        "webhook.clientConfig with service or url, or set spec.conversion.strategy: None",
    );
    assert.equal(
      missing.remediation,
      `Fix ${path} of ${CRD} missings.hostile.example.com to the value probeError names: ` +
        `kubectl edit ${CRD} missings.hostile.example.com`,
    );

    const userInfo = onlyFinding(
      snapshot,
      (finding) => finding.name === "crd/userinfos.hostile.example.com",
      "the url with user info",
    );
    assert.match(
      userInfo.probeError ?? "",
      /url "https:\/\/convert\.example\.com\/convert" must not contain user info; remove it$/,
    );
  });
});
