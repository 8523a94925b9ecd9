/**
 * The benchmark cluster: 10,000 TLS Secrets, 2,000 Helm release Secrets, 500 webhook and
 * APIService endpoints served by loopback TLS backends, and 200 Ingresses. A few certificates
 * are reused so that building it takes seconds, not minutes.
 *
 * @module
 */
import { base64, ingress, namespace, tlsBackend, tlsSecret } from "../tests/sandbox/fixtures.ts";
import { freePort, type KubeObject } from "../tests/sandbox/server.ts";
import { issueCertificate, type IssuedCertificate } from "../tests/support/pki.ts";

/** Sizes of the benchmark cluster. */
export const BENCH_SIZES = {
  namespaces: 50,
  tlsSecrets: 10_000,
  helmReleaseSecrets: 2_000,
  /** Half ValidatingWebhookConfigurations, half APIServices, each with its own TLS backend. */
  endpoints: 500,
  ingresses: 200,
  /** Distinct leaf certificates the TLS Secrets cycle through. */
  distinctCertificates: 8,
  /** Size of one Helm release payload before Kubernetes' base64, in bytes. */
  helmReleaseBytes: 16 * 1024,
} as const;

/** Namespace of the webhook and APIService backends; their leaf covers `*.bench-endpoints.svc`. */
export const ENDPOINT_NAMESPACE = "bench-endpoints";

/** Objects to load into the sandbox, with what the floor measurement needs to know. */
export interface BenchCluster {
  objects: KubeObject[];
}

/** Builds every object of the benchmark cluster, TLS backends included. */
export async function buildBenchCluster(): Promise<BenchCluster> {
  const ca = await issueCertificate({ commonName: "bench CA", isCA: true });
  const leaves: IssuedCertificate[] = [];
  for (let index = 0; index < BENCH_SIZES.distinctCertificates; index++) {
    leaves.push(
      await issueCertificate({
        commonName: `app-${index}.bench.example.com`,
        dnsNames: [`app-${index}.bench.example.com`, "shop.bench.example.com"],
        issuer: ca,
        keyType: index % 2 === 0 ? "ec256" : "rsa2048",
      }),
    );
  }
  const endpointLeaf = await issueCertificate({
    commonName: `*.${ENDPOINT_NAMESPACE}.svc`,
    dnsNames: [`*.${ENDPOINT_NAMESPACE}.svc`],
    issuer: ca,
  });

  const namespaces = Array.from({ length: BENCH_SIZES.namespaces }, (_, i) => `bench-${i}`);
  const objects: KubeObject[] = [...namespaces, ENDPOINT_NAMESPACE].map(namespace);

  for (let index = 0; index < BENCH_SIZES.tlsSecrets; index++) {
    const leaf = leaves[index % leaves.length];
    objects.push(tlsSecret({
      namespace: namespaces[index % namespaces.length],
      name: `app-${index}-tls`,
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      caPem: ca.certPem,
    }));
  }

  const payload = helmPayload(BENCH_SIZES.helmReleaseBytes);
  for (let index = 0; index < BENCH_SIZES.helmReleaseSecrets; index++) {
    const release = `release-${index}`;
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: `sh.helm.release.v1.${release}.v1`,
        namespace: namespaces[index % namespaces.length],
        labels: { owner: "helm", name: release, status: "deployed", version: "1" },
      },
      type: "helm.sh/release.v1",
      data: { release: payload },
    });
  }

  const ports = new Set<number>();
  for (let index = 0; index < BENCH_SIZES.endpoints; index++) {
    // freePort closes the port it found, so the system may offer it again: keep ports distinct.
    let port = await freePort();
    while (ports.has(port)) port = await freePort();
    ports.add(port);
    objects.push(...endpointObjects(index, port, endpointLeaf, ca));
  }

  for (let index = 0; index < BENCH_SIZES.ingresses; index++) {
    const secretIndex = index * 7;
    objects.push(ingress({
      namespace: namespaces[secretIndex % namespaces.length],
      name: `shop-${index}`,
      tls: [{ hosts: ["shop.bench.example.com"], secretName: `app-${secretIndex}-tls` }],
    }));
  }
  return { objects };
}

/** A webhook (even index) or APIService (odd index) and the TLS backend of its Service. */
function endpointObjects(
  index: number,
  port: number,
  leaf: IssuedCertificate,
  ca: IssuedCertificate,
): KubeObject[] {
  const name = `endpoint-${index}`;
  const reference = { namespace: ENDPOINT_NAMESPACE, name, port };
  const backend = tlsBackend({
    name,
    hosts: [`${name}.${ENDPOINT_NAMESPACE}.svc`],
    port,
    chainPem: leaf.certPem,
    keyPem: leaf.keyPem,
  });
  if (index % 2 === 0) {
    return [backend, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name },
      webhooks: [{
        name: `${name}.bench.example.com`,
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: "Fail",
        clientConfig: { service: reference, caBundle: base64(ca.certPem) },
      }],
    }];
  }
  return [backend, {
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: `v1.${name}.bench.example.com` },
    spec: {
      group: `${name}.bench.example.com`,
      version: "v1",
      groupPriorityMinimum: 100,
      versionPriority: 100,
      service: reference,
      caBundle: base64(ca.certPem),
    },
  }];
}

/** Returns base64 of `size` pseudo-random printable bytes, like a gzipped and encoded release. */
function helmPayload(size: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(65 + (byte % 58));
  return btoa(text);
}
