import assert from "node:assert/strict";
import { IngressDiscoverer } from "../../../core/discovery/ingress.ts";
import type { Target } from "../../../core/target.ts";
import { ingress, tlsBackend, tlsSecret } from "../../sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../../sandbox/server.ts";
import { issueCertificate, pemBundle } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
  utf8Bytes,
  withSandbox,
} from "./_discovery_harness.ts";

/** Builds an Ingress and removes `secretName` from its TLS entry at `index`. */
function withoutSecretName(object: KubeObject, index: number): KubeObject {
  const spec = object.spec as { tls: { secretName?: string }[] };
  delete spec.tls[index].secretName;
  return object;
}

Deno.test("ingress discoverer yields the leaf of each named Secret", async () => {
  const wildcard = await issueCertificate({
    commonName: "*.example.com",
    dnsNames: ["*.example.com"],
  });
  const objects = [
    tlsSecret({
      namespace: "shop",
      name: "wildcard-tls",
      certPem: wildcard.certPem,
      keyPem: wildcard.keyPem,
    }),
    ingress({
      namespace: "shop",
      name: "storefront",
      tls: [
        { hosts: ["shop.example.com"], secretName: "wildcard-tls" },
        { hosts: ["edge.example.com"], secretName: "unused" },
      ],
    }),
    ingress({
      namespace: "shop",
      name: "legacy",
      tls: [{ hosts: ["legacy.example.com"], secretName: "legacy-tls" }],
    }),
  ];
  withoutSecretName(objects[1], 1);

  await withSandbox({ objects }, async ({ kube }) => {
    const targets = await discoverAll(new IngressDiscoverer(), discoveryContext(kube));
    const expected: Target[] = [
      {
        source: "k8s.ingressTLS",
        namespace: "shop",
        name: "legacy",
        failClosed: false,
        notes: ["secret=legacy-tls", "hosts=legacy.example.com"],
        ref: { resource: "secret", namespace: "shop", name: "legacy-tls" },
        secretRef: { namespace: "shop", name: "legacy-tls" },
        kind: "problem",
        findingType: "SECRET_NOT_FOUND",
        target: "legacy-tls",
        message: "ingress shop/legacy: secret shop/legacy-tls not found",
      },
      {
        source: "k8s.ingressTLS",
        namespace: "shop",
        name: "storefront",
        failClosed: false,
        notes: ["secret=wildcard-tls", "hosts=shop.example.com"],
        ref: { resource: "ingress", namespace: "shop", name: "storefront" },
        secretRef: { namespace: "shop", name: "wildcard-tls" },
        kind: "material",
        objectLabel: "secret shop/wildcard-tls",
        key: "tls.crt",
        bytes: utf8Bytes(wildcard.certPem),
        anchors: undefined,
        expectedNames: ["shop.example.com"],
        leafOnly: true,
      },
    ];
    assert.deepEqual(targets, expected, "the TLS entry without secretName is skipped");
  });
});

Deno.test("ingress scan checks hosts against a wildcard SAN", async () => {
  const ca = await issueCertificate({ commonName: "shop CA", isCA: true });
  const wildcard = await issueCertificate({
    commonName: "*.example.com",
    dnsNames: ["*.example.com"],
    issuer: ca,
  });
  const objects = [
    tlsSecret({
      namespace: "shop",
      name: "wildcard-tls",
      certPem: pemBundle(wildcard, ca),
      caPem: ca.certPem,
    }),
    ingress({
      namespace: "shop",
      name: "covered",
      tls: [{ hosts: ["shop.example.com"], secretName: "wildcard-tls" }],
    }),
    ingress({
      namespace: "shop",
      name: "too-deep",
      tls: [{ hosts: ["a.b.example.com"], secretName: "wildcard-tls" }],
    }),
    ingress({
      namespace: "shop",
      name: "missing",
      tls: [{ hosts: ["missing.example.com"], secretName: "missing-tls" }],
    }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new IngressDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);

    const covered = onlyFinding(snapshot, (finding) => finding.name === "covered", "covered");
    assert.equal(covered.severity, "info");
    assert.equal(covered.findingType, undefined);
    assert.equal(covered.serial, wildcard.serialHex);

    const tooDeep = onlyFinding(snapshot, (finding) => finding.name === "too-deep", "too-deep");
    assert.equal(tooDeep.severity, "warn");
    assert.equal(tooDeep.findingType, "NAME_MISMATCH");
    assert.match(tooDeep.notes ?? "", /a\.b\.example\.com/);

    const missing = onlyFinding(snapshot, (finding) => finding.name === "missing", "missing");
    assert.equal(missing.severity, "warn");
    assert.equal(missing.findingType, "SECRET_NOT_FOUND");
    assert.equal(missing.target, "missing-tls");
    assert.match(missing.probeError ?? "", /secret shop\/missing-tls not found/);
    assert.match(missing.remediation ?? "", /missing-tls/);
  });
});

Deno.test("ingress discoverer reads a shared Secret once", async () => {
  const certificate = await issueCertificate({
    commonName: "shared.example.com",
    dnsNames: ["shared.example.com", "other.example.com"],
  });
  const objects = [
    tlsSecret({ namespace: "shop", name: "shared-tls", certPem: certificate.certPem }),
    ingress({
      namespace: "shop",
      name: "first",
      tls: [{ hosts: ["shared.example.com"], secretName: "shared-tls" }],
    }),
    ingress({
      namespace: "shop",
      name: "second",
      tls: [{ hosts: ["other.example.com"], secretName: "shared-tls" }],
    }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const targets = await discoverAll(new IngressDiscoverer(), discoveryContext(kube));
    assert.deepEqual(
      targets.map((target) => `${target.kind} ${target.name}`),
      ["material first", "material second"],
    );
    const secretGets = sandbox.requestLog.filter((entry) =>
      entry.method === "GET" && entry.path === "/api/v1/namespaces/shop/secrets/shared-tls"
    );
    assert.equal(secretGets.length, 1, "two Ingresses naming one Secret cost one GET");
  });
});

/** Builds a Secret whose `tls.crt` is not base64, as a hand-edited manifest can leave it. */
function secretWithInvalidBase64(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "kubernetes.io/tls",
    data: { "tls.crt": "!!!not-base64!!!" },
  };
}

Deno.test("ingress invalid base64 loses nothing else", async () => {
  const healthy = await issueCertificate({
    commonName: "blog.example.com",
    dnsNames: ["blog.example.com"],
  });
  const objects = [
    secretWithInvalidBase64("shop", "broken-tls"),
    ingress({
      namespace: "shop",
      name: "storefront",
      tls: [{ hosts: ["shop.example.com"], secretName: "broken-tls" }],
    }),
    tlsSecret({ namespace: "blog", name: "blog-tls", certPem: healthy.certPem }),
    ingress({
      namespace: "blog",
      name: "blog",
      tls: [{ hosts: ["blog.example.com"], secretName: "blog-tls" }],
    }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new IngressDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn k8s.ingressTLS shop/storefront tls.crt CERT_UNREADABLE",
      "info k8s.ingressTLS blog/blog tls.crt -",
    ]);
    const broken = snapshot.findings[0];
    assert.match(
      broken.probeError ?? "",
      /^ingress shop\/storefront: tls\.crt of secret shop\/broken-tls is not valid base64/,
    );
    assert.match(broken.remediation ?? "", /tls\.crt of Secret shop\/broken-tls/);
  });
});

Deno.test("ingress forbidden Secret is a finding", async () => {
  const objects = [
    ingress({
      namespace: "shop",
      name: "storefront",
      tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
    }),
    ingress({
      namespace: "blog",
      name: "blog",
      tls: [{ hosts: ["blog.example.com"], secretName: "blog-tls" }],
    }),
  ];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new IngressDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn k8s.ingressTLS blog/blog blog-tls READ_FORBIDDEN",
      "warn k8s.ingressTLS shop/storefront shop-tls READ_FORBIDDEN",
    ]);
    const shop = snapshot.findings[1];
    assert.match(
      shop.probeError ?? "",
      /^ingress shop\/storefront: get secret shop\/shop-tls is forbidden/,
    );
    assert.match(shop.probeError ?? "", /kubectl auth can-i get secrets -n shop/);
    assert.match(shop.remediation ?? "", /get on secrets in namespace shop/);
    assert.match(shop.remediation ?? "", /kubectl auth can-i get secrets -n shop$/);
  });
});

Deno.test("ingress controller serving an old certificate is stale", async () => {
  const ca = await issueCertificate({ commonName: "shop CA", isCA: true });
  const old = await issueCertificate({
    commonName: "shop.example.com",
    dnsNames: ["shop.example.com"],
    issuer: ca,
  });
  const renewed = await issueCertificate({
    commonName: "shop.example.com",
    dnsNames: ["shop.example.com"],
    issuer: ca,
  });
  const stalePort = await freePort();
  const freshPort = await freePort();
  const withAddress = (object: KubeObject, port: number) => ({
    ...object,
    status: {
      loadBalancer: { ingress: [{ ip: "127.0.0.1", ports: [{ port, protocol: "TCP" }] }] },
    },
  });
  const objects = [
    tlsSecret({ namespace: "shop", name: "shop-tls", certPem: renewed.certPem, caPem: ca.certPem }),
    withAddress(
      ingress({
        namespace: "shop",
        name: "stale",
        tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
      }),
      stalePort,
    ),
    withAddress(
      ingress({
        namespace: "shop",
        name: "fresh",
        tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
      }),
      freshPort,
    ),
    tlsBackend({
      name: "old-controller",
      hosts: [],
      port: stalePort,
      chainPem: old.certPem,
      keyPem: old.keyPem,
    }),
    tlsBackend({
      name: "new-controller",
      hosts: [],
      port: freshPort,
      chainPem: renewed.certPem,
      keyPem: renewed.keyPem,
    }),
  ];

  await withSandbox({ objects }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new IngressDiscoverer(), { kube, sandbox });
    const served = (name: string) =>
      snapshot.findings.find((finding) => finding.name === name && finding.target !== "tls.crt");

    const stale = served("stale");
    assert.equal(stale?.findingType, "STALE_SERVING_CERT", JSON.stringify(snapshot.findings));
    assert.equal(stale?.severity, "warn");
    assert.equal(stale?.serial, old.serialHex);
    assert.match(
      stale?.notes ?? "",
      new RegExp(`secret shop/shop-tls holds serial ${renewed.serialHex}`),
    );
    assert.equal(served("fresh")?.severity, "info", JSON.stringify(served("fresh")));
    assert.equal(served("fresh")?.target, `127.0.0.1:${freshPort}`);
  });
});
