import assert from "node:assert/strict";
import { WebhookDiscoverer } from "../../../core/discovery/webhooks.ts";
import { exitCodeFor } from "../../../core/model.ts";
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
  summarize,
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
        target: "webhooks[4].clientConfig.url",
        message: `${
          label(VALIDATING, "payments-validator", "plain-http.payments.example.com")
        }: webhooks[4].clientConfig.url "http://hooks.example.com/admit" must use https`,
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

Deno.test("webhook forbidden kind keeps the other", async () => {
  const objects = [
    validatingWebhook({
      name: "hidden-validator",
      webhooks: [{
        name: "validate.example.com",
        url: "https://validator.example.invalid/validate",
        failurePolicy: "Ignore",
      }],
    }),
    mutatingWebhook({
      name: "visible-mutator",
      webhooks: [{
        name: "mutate.example.com",
        url: "https://mutator.example.invalid/mutate",
        failurePolicy: "Ignore",
      }],
    }),
  ];

  await withSandbox(
    { objects, forbiddenResources: ["validatingwebhookconfigurations"] },
    async ({ kube, sandbox }) => {
      const snapshot = await scanWith(new WebhookDiscoverer(), { kube, sandbox });
      assert.deepEqual(
        snapshot.findings.map((finding) => finding.name),
        ["visible-mutator/mutate.example.com"],
      );
      assert.equal(snapshot.errors.length, 1);
      assert.equal(snapshot.errors[0].source, "k8s.webhook");
      assert.match(
        snapshot.errors[0].message,
        /^list validatingwebhookconfigurations\.admissionregistration\.k8s\.io is forbidden/,
      );
      assert.match(
        snapshot.errors[0].message,
        /kubectl auth can-i list validatingwebhookconfigurations\.admissionregistration\.k8s\.io$/,
      );
    },
  );
});

Deno.test("webhook malformed clientConfigs become findings", async () => {
  const ca = await issueCertificate({ commonName: "hooks CA", isCA: true });
  const healthy = await hookBackend("healthy", ca, {
    notBefore: daysFromNow(-1),
    notAfter: daysFromNow(200),
  });
  const healthyHook = (name: string) => ({
    name,
    service: hookService("healthy", healthy.port),
    caBundlePem: ca.certPem,
    failurePolicy: "Fail" as const,
  });
  const configuration = validatingWebhook({
    name: "hostile",
    webhooks: [
      healthyHook("no-namespace.example.com"),
      { ...healthyHook("port-string.example.com"), failurePolicy: "Ignore" },
      healthyHook("empty-client-config.example.com"),
      { ...healthyHook("string-client-config.example.com"), failurePolicy: "Ignore" },
      healthyHook("unnamed"),
      healthyHook("bad-policy.example.com"),
      healthyHook("healthy.example.com"),
      healthyHook("replaced-by-a-string"),
      healthyHook("service-and-url.example.com"),
    ],
  });
  const entries = configuration.webhooks as Record<string, unknown>[];
  entries[0].clientConfig = { service: { name: "a" } };
  entries[1].clientConfig = { service: { namespace: "hostile", name: "a", port: "abc" } };
  entries[2].clientConfig = {};
  entries[3].clientConfig = "oops";
  delete entries[4].name;
  entries[5].failurePolicy = "fail";
  (entries[5].clientConfig as { service: { port: number } }).service.port = 70_000;
  entries[7] = "just a string" as unknown as Record<string, unknown>;
  (entries[8].clientConfig as { url: string }).url = "https://hooks.example.com/admit";
  const listAsString = mutatingWebhook({ name: "webhooks-string", webhooks: [] });
  listAsString.webhooks = "nope";

  await withSandbox(
    { objects: [...healthy.objects, configuration, listAsString] },
    async ({ sandbox, kube }) => {
      const snapshot = await scanWith(new WebhookDiscoverer(), { kube, sandbox });
      assert.deepEqual(snapshot.errors, []);
      assert.deepEqual(snapshot.findings.map(summarize).sort(), [
        "critical k8s.webhook hostile/bad-policy.example.com webhooks[5].clientConfig.service.port INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/bad-policy.example.com webhooks[5].failurePolicy INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/empty-client-config.example.com webhooks[2].clientConfig INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/no-namespace.example.com webhooks[0].clientConfig.service.namespace INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/service-and-url.example.com webhooks[8].clientConfig INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/webhooks[4] webhooks[4].name INVALID_CLIENT_CONFIG",
        "critical k8s.webhook hostile/webhooks[7] webhooks[7] INVALID_CLIENT_CONFIG",
        "critical k8s.webhook webhooks-string webhooks INVALID_CLIENT_CONFIG",
        "info k8s.webhook hooks/hostile/healthy.example.com caBundle -",
        `info k8s.webhook hooks/hostile/healthy.example.com healthy.hooks.svc:${healthy.port} -`,
        "info k8s.webhook hooks/hostile/webhooks[4] caBundle -",
        `info k8s.webhook hooks/hostile/webhooks[4] healthy.hooks.svc:${healthy.port} -`,
        "info k8s.webhook hostile/bad-policy.example.com caBundle -",
        "info k8s.webhook hostile/service-and-url.example.com caBundle -",
        "warn k8s.webhook hostile/port-string.example.com webhooks[1].clientConfig.service.port INVALID_CLIENT_CONFIG",
        "warn k8s.webhook hostile/string-client-config.example.com webhooks[3].clientConfig INVALID_CLIENT_CONFIG",
      ]);
      assert.equal(exitCodeFor(snapshot), 2);
      assert.doesNotMatch(JSON.stringify(snapshot), /undefined/);

      const finding = (name: string, target: string) =>
        onlyFinding(
          snapshot,
          (candidate) => candidate.name === name && candidate.target === target,
          `${name} ${target}`,
        );
      const noNamespace = finding(
        "hostile/no-namespace.example.com",
        "webhooks[0].clientConfig.service.namespace",
      );
      assert.equal(
        noNamespace.probeError,
        `${
          label(VALIDATING, "hostile", "no-namespace.example.com")
        }: webhooks[0].clientConfig.service.namespace is missing; set the namespace of the Service`,
      );
      assert.equal(
        noNamespace.remediation,
        "Fix webhooks[0].clientConfig.service.namespace of validatingwebhookconfiguration " +
          "hostile (webhook no-namespace.example.com) to the value probeError names: " +
          "kubectl edit validatingwebhookconfiguration hostile",
      );

      const portString = finding(
        "hostile/port-string.example.com",
        "webhooks[1].clientConfig.service.port",
      );
      assert.match(
        portString.probeError ?? "",
        /port is the string "abc"; set an integer port from 1 to 65535 \(443 when omitted\)$/,
      );
      assert.match(portString.notes ?? "", /failurePolicy=Ignore/);

      const stringClientConfig = finding(
        "hostile/string-client-config.example.com",
        "webhooks[3].clientConfig",
      );
      assert.match(stringClientConfig.probeError ?? "", /clientConfig is the string "oops"; set /);

      const badPolicy = finding("hostile/bad-policy.example.com", "webhooks[5].failurePolicy");
      assert.match(badPolicy.probeError ?? "", /failurePolicy is the string "fail"; set Fail or/);
      assert.match(
        badPolicy.notes ?? "",
        /failurePolicy=Fail; invalid failurePolicy read as Fail, the API server default/,
      );
      assert.match(
        finding("hostile/bad-policy.example.com", "webhooks[5].clientConfig.service.port")
          .probeError ?? "",
        /port is 70000; set an integer port/,
      );

      const listString = finding("webhooks-string", "webhooks");
      assert.equal(
        listString.probeError,
        'mutatingwebhookconfiguration webhooks-string: webhooks is the string "nope"; ' +
          "set a list of webhooks",
      );
      assert.equal(
        listString.remediation,
        "Fix webhooks of mutatingwebhookconfiguration webhooks-string to the value probeError " +
          "names: kubectl edit mutatingwebhookconfiguration webhooks-string",
      );
    },
  );
});
