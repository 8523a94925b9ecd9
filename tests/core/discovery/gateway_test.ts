import assert from "node:assert/strict";
import { GatewayDiscoverer } from "../../../core/discovery/gateway.ts";
import { namespace, tlsBackend, tlsSecret } from "../../sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate, type IssuedCertificate } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
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

function gateway(options: {
  namespace: string;
  hostname: string;
  secret: { name: string; namespace?: string };
  port?: number;
  addresses?: string[];
}): KubeObject {
  const object: KubeObject = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: { name: "edge", namespace: options.namespace },
    spec: {
      gatewayClassName: "example",
      listeners: [{
        name: "https",
        protocol: "HTTPS",
        port: options.port ?? 443,
        hostname: options.hostname,
        tls: { certificateRefs: [{ group: "", kind: "Secret", ...options.secret }] },
      }, { name: "http", protocol: "HTTP", port: 80 }],
    },
  };
  if (options.addresses) {
    object.status = { addresses: options.addresses.map((value) => ({ type: "IPAddress", value })) };
  }
  return object;
}

let sharedCa: Promise<IssuedCertificate> | undefined;

/** Returns one test CA for the file, so served and stored leaves chain the same way. */
function ca(): Promise<IssuedCertificate> {
  sharedCa ??= issueCertificate({ commonName: "gateway test CA", isCA: true });
  return sharedCa;
}

function referenceGrant(namespace: string, fromNamespace: string): KubeObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1beta1",
    kind: "ReferenceGrant",
    metadata: { name: "allow-gateways", namespace },
    spec: {
      from: [{ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: fromNamespace }],
      to: [{ group: "", kind: "Secret" }],
    },
  };
}

Deno.test("gateway cross-namespace ref needs a ReferenceGrant", async () => {
  const leaf = await issueCertificate({
    commonName: "shop",
    dnsNames: ["shop.example.com"],
    issuer: await ca(),
  });
  const objects = [
    gateway({
      namespace: "edge",
      hostname: "shop.example.com",
      secret: { name: "shop-tls", namespace: "certs" },
    }),
    tlsSecret({ namespace: "certs", name: "shop-tls", certPem: leaf.certPem }),
  ];
  await withSandbox({ objects }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    const finding = onlyFinding(snapshot, () => true, "the listener");
    assert.equal(finding.findingType, "REF_NOT_PERMITTED");
    assert.equal(finding.severity, "warn");
    assert.equal(finding.name, "edge/https");
    assert.match(finding.probeError ?? "", /not allowed by any ReferenceGrant in namespace certs/);
  });
  await withSandbox(
    { objects: [...objects, referenceGrant("certs", "edge")] },
    async ({ kube, sandbox }) => {
      const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
      assert.deepEqual(snapshot.findings.map(summarize), [
        "info k8s.gateway edge/edge/https tls.crt -",
      ]);
    },
  );
  await withSandbox(
    { objects: [...objects, referenceGrant("certs", "other")] },
    async ({ kube, sandbox }) => {
      const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
      assert.equal(
        snapshot.findings[0].findingType,
        "REF_NOT_PERMITTED",
        "a grant for another namespace",
      );
    },
  );
});

Deno.test("gateway listener hostname checked against SANs", async () => {
  const leaf = await issueCertificate({
    commonName: "shop",
    dnsNames: ["shop.example.com"],
    issuer: await ca(),
  });
  await withSandbox({
    objects: [
      gateway({ namespace: "edge", hostname: "*.example.com", secret: { name: "shop-tls" } }),
      tlsSecret({ namespace: "edge", name: "shop-tls", certPem: leaf.certPem }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    const finding = onlyFinding(snapshot, () => true, "the listener");
    assert.equal(finding.findingType, "NAME_MISMATCH");
    assert.match(finding.notes ?? "", /hosts \*\.example\.com not covered/);
  });
});

Deno.test("gateway serving an old certificate is stale", async () => {
  const old = await issueCertificate({
    commonName: "shop",
    dnsNames: ["shop.example.com"],
    issuer: await ca(),
    notBefore: daysFromNow(-40),
    notAfter: daysFromNow(50),
  });
  const renewed = await issueCertificate({
    commonName: "shop",
    dnsNames: ["shop.example.com"],
    issuer: await ca(),
  });
  const port = await freePort();
  await withSandbox({
    objects: [
      gateway({
        namespace: "edge",
        hostname: "shop.example.com",
        secret: { name: "shop-tls" },
        port,
        addresses: ["127.0.0.1"],
      }),
      tlsSecret({ namespace: "edge", name: "shop-tls", certPem: renewed.certPem }),
      tlsBackend({
        name: "edge",
        hosts: ["shop.example.com"],
        port,
        chainPem: old.certPem,
        keyPem: old.keyPem,
      }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    const served = onlyFinding(
      snapshot,
      (finding) => finding.target === `127.0.0.1:${port}`,
      "the address",
    );
    assert.equal(served.sni, "shop.example.com");
    assert.equal(served.findingType, "STALE_SERVING_CERT");
    assert.equal(served.serial, old.serialHex);
  });
});

Deno.test("gateway API absent is skipped quietly", async () => {
  await withSandbox({}, async ({ kube, sandbox }) => {
    assert.deepEqual(await discoverAll(new GatewayDiscoverer(), discoveryContext(kube)), []);
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
  });
});

Deno.test({
  name: "gateway realdata cross-namespace grant is honoured",
  ignore: !hasRealdata,
  async fn() {
    await withSandbox({
      manifests: [`${REALDATA}k8s/gateway/tls-cert-cross-namespace.yaml`],
    }, async ({ kube, sandbox }) => {
      const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
      assert.deepEqual(snapshot.findings.map(summarize), [
        "warn k8s.gateway gateway-api-example-ns1/cross-namespace-tls-gateway/https gateway-api-example-ns2/wildcard-example-com-cert SECRET_NOT_FOUND",
      ], "the grant allows the ref, so the next problem is the missing Secret");
    });
  },
});

/** Builds a Gateway named `name` in `edge` whose one listener uses `secret`. */
function namedGateway(
  name: string,
  hostname: string,
  secret: { name: string; namespace?: string },
): KubeObject {
  const object = gateway({ namespace: "edge", hostname, secret });
  object.metadata.name = name;
  return object;
}

Deno.test("gateway forbidden namespace loses no listener", async () => {
  const leaf = await issueCertificate({
    commonName: "blog",
    dnsNames: ["blog.example.com"],
    issuer: await ca(),
  });
  const objects = [
    namespace("edge"),
    namespace("certs"),
    namedGateway("a-first", "shop.example.com", { name: "shop-tls", namespace: "certs" }),
    namedGateway("b-second", "blog.example.com", { name: "blog-tls" }),
    tlsSecret({ namespace: "edge", name: "blog-tls", certPem: leaf.certPem }),
    tlsSecret({ namespace: "certs", name: "shop-tls", certPem: leaf.certPem }),
    referenceGrant("certs", "edge"),
  ];

  await withSandbox({ objects, forbiddenNamespaces: ["certs"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn k8s.gateway edge/a-first/https certs/shop-tls READ_FORBIDDEN",
      "info k8s.gateway edge/b-second/https tls.crt -",
    ]);
    const forbidden = snapshot.findings[0];
    assert.match(
      forbidden.probeError ?? "",
      /^gateway edge\/a-first, listener https: list referencegrants\.gateway\.networking\.k8s\.io in namespace certs is forbidden/,
    );
    assert.match(
      forbidden.remediation ?? "",
      /kubectl auth can-i list referencegrants\.gateway\.networking\.k8s\.io -n certs$/,
    );
    assert.deepEqual(
      snapshot.errors.map((error) => error.source),
      ["k8s.gateway"],
      "listing Gateways in certs is still a discovery error",
    );
    assert.match(snapshot.errors[0].message, /namespace certs skipped/);
  });
});

Deno.test("gateway forbidden Secret is a finding", async () => {
  const objects = [
    namedGateway("a-first", "shop.example.com", { name: "shop-tls", namespace: "certs" }),
    namedGateway("b-second", "blog.example.com", { name: "blog-tls" }),
    referenceGrant("certs", "edge"),
  ];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn k8s.gateway edge/a-first/https certs/shop-tls READ_FORBIDDEN",
      "warn k8s.gateway edge/b-second/https edge/blog-tls READ_FORBIDDEN",
    ]);
    const crossNamespace = snapshot.findings[0];
    assert.match(
      crossNamespace.probeError ?? "",
      /^gateway edge\/a-first, listener https: get secret certs\/shop-tls is forbidden/,
    );
    assert.match(crossNamespace.remediation ?? "", /kubectl auth can-i get secrets -n certs$/);
  });
});

Deno.test("gateway invalid base64 loses nothing else", async () => {
  const leaf = await issueCertificate({
    commonName: "blog",
    dnsNames: ["blog.example.com"],
    issuer: await ca(),
  });
  const broken: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "shop-tls", namespace: "edge" },
    type: "kubernetes.io/tls",
    data: { "tls.crt": "!!!not-base64!!!" },
  };
  const objects = [
    namedGateway("a-first", "shop.example.com", { name: "shop-tls" }),
    namedGateway("b-second", "blog.example.com", { name: "blog-tls" }),
    broken,
    tlsSecret({ namespace: "edge", name: "blog-tls", certPem: leaf.certPem }),
  ];

  await withSandbox({ objects }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new GatewayDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn k8s.gateway edge/a-first/https edge/shop-tls CERT_UNREADABLE",
      "info k8s.gateway edge/b-second/https tls.crt -",
    ]);
  });
});
