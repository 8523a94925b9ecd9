import assert from "node:assert/strict";
import { WebhookDiscoverer } from "../../../core/discovery/webhooks.ts";
import type { Target, TargetContext } from "../../../core/target.ts";
import { mutatingWebhook, service, tlsBackend, validatingWebhook } from "../../sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate, type IssuedCertificate } from "../../support/pki.ts";
import { startTlsServer } from "../probe/_servers.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  utf8Bytes,
  withSandbox,
} from "./_discovery_harness.ts";

/** The fields of a webhook entry these tests change after the fixture built it. */
interface WebhookEntry {
  failurePolicy?: string;
  clientConfig: { service?: { port?: number }; url?: string; caBundle?: string };
}

function webhookEntries(configuration: KubeObject): WebhookEntry[] {
  return configuration.webhooks as WebhookEntry[];
}

const VALIDATING = "validatingwebhookconfiguration";
const MUTATING = "mutatingwebhookconfiguration";

function label(resource: string, configuration: string, webhook: string): string {
  return `${resource} ${configuration}, webhook ${webhook}`;
}

Deno.test("webhook discoverer describes service and url clientConfigs", async () => {
  const ca = await issueCertificate({ commonName: "hooks CA", isCA: true });
  const validating = validatingWebhook({
    name: "payments-validator",
    webhooks: [
      {
        name: "default-port.payments.example.com",
        service: { namespace: "payments", name: "webhook", path: "/validate" },
        caBundlePem: ca.certPem,
        failurePolicy: "Fail",
      },
      {
        name: "explicit-port.payments.example.com",
        service: { namespace: "payments", name: "webhook", port: 8443, path: "/other" },
        failurePolicy: "Ignore",
      },
      {
        name: "url.payments.example.com",
        url: "https://hooks.example.com/admit",
        failurePolicy: "Fail",
      },
      {
        name: "url-port.payments.example.com",
        url: "https://hooks.example.com:9443/admit",
        failurePolicy: "Fail",
      },
      {
        name: "plain-http.payments.example.com",
        url: "http://hooks.example.com/admit",
        failurePolicy: "Fail",
      },
    ],
  });
  const [defaultPort] = webhookEntries(validating);
  delete defaultPort.failurePolicy;
  delete defaultPort.clientConfig.service!.port;
  const mutating = mutatingWebhook({
    name: "payments-mutator",
    webhooks: [{
      name: "mutate.payments.example.com",
      service: { namespace: "payments", name: "mutator", port: 443 },
      failurePolicy: "Ignore",
    }],
  });

  await withSandbox({ objects: [validating, mutating] }, async ({ kube }) => {
    const targets = await discoverAll(new WebhookDiscoverer(), discoveryContext(kube));

    const defaultLabel = label(
      VALIDATING,
      "payments-validator",
      "default-port.payments.example.com",
    );
    const defaultBase: Omit<TargetContext, "notes"> = {
      source: "k8s.webhook",
      name: "payments-validator/default-port.payments.example.com",
      failClosed: true,
      severityCap: undefined,
      ref: { resource: VALIDATING, name: "payments-validator" },
    };
    const urlBase = (webhook: string): TargetContext => ({
      source: "k8s.webhook",
      name: `payments-validator/${webhook}`,
      failClosed: true,
      severityCap: undefined,
      notes: [VALIDATING, "failurePolicy=Fail"],
      ref: { resource: VALIDATING, name: "payments-validator" },
    });
    const expected: Target[] = [
      {
        ...defaultBase,
        notes: [VALIDATING, "failurePolicy=Fail", "service=payments/webhook"],
        kind: "endpoint",
        namespace: "payments",
        endpoint: { host: "webhook.payments.svc", port: 443, sni: "webhook.payments.svc" },
        expectedNames: ["webhook.payments.svc"],
        trust: {
          kind: "anchors",
          pem: utf8Bytes(ca.certPem),
          origin: `caBundle of ${defaultLabel}`,
          caBundle: true,
        },
      },
      {
        ...defaultBase,
        namespace: "payments",
        notes: [VALIDATING, "failurePolicy=Fail"],
        kind: "material",
        objectLabel: defaultLabel,
        key: "caBundle",
        bytes: utf8Bytes(ca.certPem),
        caBundle: true,
      },
      {
        source: "k8s.webhook",
        name: "payments-validator/explicit-port.payments.example.com",
        failClosed: false,
        severityCap: "warn",
        notes: [VALIDATING, "failurePolicy=Ignore", "service=payments/webhook"],
        ref: { resource: VALIDATING, name: "payments-validator" },
        kind: "endpoint",
        namespace: "payments",
        endpoint: { host: "webhook.payments.svc", port: 8443, sni: "webhook.payments.svc" },
        expectedNames: ["webhook.payments.svc"],
        trust: { kind: "system" },
      },
      {
        ...urlBase("url.payments.example.com"),
        notes: [VALIDATING, "failurePolicy=Fail", "url=https://hooks.example.com/admit"],
        kind: "endpoint",
        endpoint: { host: "hooks.example.com", port: 443 },
        expectedNames: ["hooks.example.com"],
        trust: { kind: "system" },
      },
      {
        ...urlBase("url-port.payments.example.com"),
        notes: [VALIDATING, "failurePolicy=Fail", "url=https://hooks.example.com:9443/admit"],
        kind: "endpoint",
        endpoint: { host: "hooks.example.com", port: 9443 },
        expectedNames: ["hooks.example.com"],
        trust: { kind: "system" },
      },
      {
        ...urlBase("plain-http.payments.example.com"),
        kind: "problem",
        findingType: "INVALID_URL",
        message: `${
          label(VALIDATING, "payments-validator", "plain-http.payments.example.com")
        }: clientConfig.url "http://hooks.example.com/admit" must use https`,
      },
      {
        source: "k8s.webhook",
        name: "payments-mutator/mutate.payments.example.com",
        failClosed: false,
        severityCap: "warn",
        notes: [MUTATING, "failurePolicy=Ignore", "service=payments/mutator"],
        ref: { resource: MUTATING, name: "payments-mutator" },
        kind: "endpoint",
        namespace: "payments",
        endpoint: { host: "mutator.payments.svc", port: 443, sni: "mutator.payments.svc" },
        expectedNames: ["mutator.payments.svc"],
        trust: { kind: "system" },
      },
    ];
    assert.deepEqual(targets, expected);
  });
});

Deno.test("webhook discoverer keeps an unusable caBundle as a material target", async () => {
  const configuration = validatingWebhook({
    name: "broken",
    webhooks: [
      { name: "not-base64.example.com", service: hookService("a"), failurePolicy: "Fail" },
      { name: "not-a-certificate.example.com", service: hookService("b"), failurePolicy: "Fail" },
    ],
  });
  const [notBase64, notCertificate] = webhookEntries(configuration);
  notBase64.clientConfig.caBundle = "%%% not base64 %%%";
  notCertificate.clientConfig.caBundle = btoa("just some text");

  await withSandbox({ objects: [configuration] }, async ({ kube }) => {
    const targets = await discoverAll(new WebhookDiscoverer(), discoveryContext(kube));
    const summary = targets.map((target) => {
      if (target.kind === "endpoint") return `${target.kind} ${target.trust.kind}`;
      if (target.kind === "material") {
        return `${target.kind} ${target.key} ${new TextDecoder().decode(target.bytes)}`;
      }
      return `${target.kind} ${target.findingType}`;
    });
    assert.deepEqual(summary, [
      "endpoint invalid",
      "material caBundle %%% not base64 %%%",
      "endpoint anchors",
      "material caBundle just some text",
    ]);
  });
});

function hookService(name: string, port?: number) {
  return { namespace: "hooks", name, ...(port === undefined ? {} : { port }) };
}

/** Builds a Service and a sandbox TLS backend for `<name>.hooks.svc`, with a leaf issued by `ca`. */
async function hookBackend(
  name: string,
  ca: IssuedCertificate,
  validity: { notBefore: Date; notAfter: Date },
): Promise<{ port: number; objects: KubeObject[] }> {
  const port = await freePort();
  const host = `${name}.hooks.svc`;
  const leaf = await issueCertificate({
    commonName: host,
    dnsNames: [host],
    issuer: ca,
    ...validity,
  });
  return {
    port,
    objects: [
      service({ namespace: "hooks", name, port }),
      tlsBackend({ name, hosts: [host], port, chainPem: leaf.certPem, keyPem: leaf.keyPem }),
    ],
  };
}

Deno.test("webhook scan classifies by failurePolicy and caBundle", async () => {
  const ca = await issueCertificate({ commonName: "hooks CA", isCA: true });
  const expiredValidity = { notBefore: daysFromNow(-60), notAfter: daysFromNow(-2) };
  const expiredDefault = await hookBackend("expired-default", ca, expiredValidity);
  const expiredIgnore = await hookBackend("expired-ignore", ca, expiredValidity);
  const healthy = await hookBackend("healthy", ca, {
    notBefore: daysFromNow(-1),
    notAfter: daysFromNow(200),
  });
  const configuration = validatingWebhook({
    name: "hooks",
    webhooks: [
      {
        name: "default-policy.example.com",
        service: hookService("expired-default", expiredDefault.port),
        caBundlePem: ca.certPem,
        failurePolicy: "Fail",
      },
      {
        name: "ignore.example.com",
        service: hookService("expired-ignore", expiredIgnore.port),
        caBundlePem: ca.certPem,
        failurePolicy: "Ignore",
      },
      {
        name: "garbage-cabundle.example.com",
        service: hookService("healthy", healthy.port),
        failurePolicy: "Fail",
      },
      {
        name: "system-trust.example.com",
        service: hookService("healthy", healthy.port),
        failurePolicy: "Fail",
      },
      {
        name: "healthy.example.com",
        service: hookService("healthy", healthy.port),
        caBundlePem: ca.certPem,
        failurePolicy: "Fail",
      },
    ],
  });
  const [defaultPolicy, , garbage] = webhookEntries(configuration);
  delete defaultPolicy.failurePolicy;
  garbage.clientConfig.caBundle = "%%% not base64 %%%";
  const objects = [
    ...expiredDefault.objects,
    ...expiredIgnore.objects,
    ...healthy.objects,
    configuration,
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new WebhookDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const finding = (webhook: string, target: "endpoint" | "caBundle") =>
      onlyFinding(
        snapshot,
        (candidate) =>
          candidate.name === `hooks/${webhook}` &&
          (target === "caBundle") === (candidate.target === "caBundle"),
        `${webhook} ${target}`,
      );

    const failClosed = finding("default-policy.example.com", "endpoint");
    assert.equal(failClosed.severity, "critical");
    assert.equal(failClosed.findingType, "EXPIRED");
    assert.match(failClosed.notes ?? "", /failurePolicy=Fail/);

    const ignored = finding("ignore.example.com", "endpoint");
    assert.equal(ignored.severity, "warn", "failurePolicy Ignore caps an expired backend at warn");
    assert.equal(ignored.findingType, "EXPIRED");

    const garbageEndpoint = finding("garbage-cabundle.example.com", "endpoint");
    assert.equal(garbageEndpoint.severity, "critical");
    assert.equal(garbageEndpoint.findingType, "CABUNDLE_INVALID");
    const garbageBundle = finding("garbage-cabundle.example.com", "caBundle");
    assert.equal(garbageBundle.severity, "critical");
    assert.equal(garbageBundle.findingType, "CABUNDLE_INVALID");
    assert.equal(garbageBundle.probeOk, false);

    const systemTrust = finding("system-trust.example.com", "endpoint");
    assert.equal(systemTrust.severity, "critical", "a private CA is not in the system roots");
    assert.equal(systemTrust.findingType, "CHAIN_INVALID");
    assert.equal(
      snapshot.findings.filter((candidate) => candidate.name === "hooks/system-trust.example.com")
        .length,
      1,
      "no caBundle means no caBundle finding",
    );

    const healthyEndpoint = finding("healthy.example.com", "endpoint");
    assert.equal(healthyEndpoint.severity, "info");
    assert.equal(healthyEndpoint.findingType, undefined);
    assert.equal(healthyEndpoint.chainErrors, undefined);
    const healthyBundle = finding("healthy.example.com", "caBundle");
    assert.equal(healthyBundle.severity, "info");
    assert.equal(healthyBundle.subject, ca.subject);
    assert.equal(healthyBundle.serial, ca.serialHex);
  });
});

Deno.test("webhook endpoint shared by several webhooks is probed once", async () => {
  const ca = await issueCertificate({ commonName: "shared hooks CA", isCA: true });
  const host = "shared.hooks.svc";
  const leaf = await issueCertificate({ commonName: host, dnsNames: [host], issuer: ca });
  const server = await startTlsServer(leaf, [leaf]);
  const reference = { namespace: "hooks", name: "shared", port: server.port };
  const objects = [
    validatingWebhook({
      name: "shared-validating",
      webhooks: [
        {
          name: "one.example.com",
          service: { ...reference, path: "/one" },
          caBundlePem: ca.certPem,
          failurePolicy: "Fail",
        },
        {
          name: "two.example.com",
          service: { ...reference, path: "/two" },
          caBundlePem: ca.certPem,
          failurePolicy: "Ignore",
        },
      ],
    }),
    mutatingWebhook({
      name: "shared-mutating",
      webhooks: [{
        name: "three.example.com",
        service: { ...reference, path: "/three" },
        caBundlePem: ca.certPem,
        failurePolicy: "Fail",
      }],
    }),
  ];

  try {
    await withSandbox({ objects }, async ({ kube }) => {
      const snapshot = await scanWith(new WebhookDiscoverer(), {
        kube,
        resolve: [`${host}:${server.port}:127.0.0.1`],
      });
      const endpointFindings = snapshot.findings.filter((finding) =>
        finding.target === `${host}:${server.port}`
      );
      assert.deepEqual(
        endpointFindings.map((finding) => `${finding.name} ${finding.severity}`).sort(),
        [
          "shared-mutating/three.example.com info",
          "shared-validating/one.example.com info",
          "shared-validating/two.example.com info",
        ],
      );
      assert.equal(server.connections, 1, "three webhooks on one endpoint cost one handshake");
      // The client may finish its side of the handshake before the server records it.
      await server.waitForHandshakes(1);
      assert.deepEqual(server.serverNames, [host]);
    });
  } finally {
    await server.close();
  }
});
