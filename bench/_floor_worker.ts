/**
 * Benchmark worker for the floor: the same API lists and Secret reads as a scan, the same
 * certificates parsed with `node:crypto`, and the same endpoints handshaken at the same
 * concurrency, with no trustwatch code at all. It is the least any tool doing this work needs.
 * Prints a {@linkcode WorkerResult} as JSON.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { peakRssBytes, type WorkerParameters, type WorkerResult } from "./_peak_rss.ts";

const parameters: WorkerParameters = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const client = Deno.createHttpClient({ caCerts: [parameters.caPem] });
const counts = { objects: 0, certificates: 0, handshakes: 0, secretReads: 0 };

// deno-lint-ignore no-explicit-any
type Item = any;

async function get(path: string): Promise<Item> {
  const response = await fetch(parameters.url + path, {
    client,
    headers: { authorization: `Bearer ${parameters.token}`, accept: "application/json" },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return await response.json();
}

async function* listPages(path: string, fieldSelector?: string): AsyncGenerator<Item[]> {
  let continueToken = "";
  do {
    const query = new URLSearchParams({ limit: "500" });
    if (fieldSelector) query.set("fieldSelector", fieldSelector);
    if (continueToken) query.set("continue", continueToken);
    const page = await get(`${path}?${query}`);
    continueToken = page.metadata?.continue ?? "";
    yield page.items ?? [];
  } while (continueToken);
}

function parsePemField(base64Value: string | undefined): void {
  if (!base64Value) return;
  const pem = atob(base64Value);
  for (
    const block of pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
  ) {
    new X509Certificate(block);
    counts.certificates++;
  }
}

for (const type of ["kubernetes.io/tls", "Opaque"]) {
  for await (const page of listPages("/api/v1/secrets", `type=${type}`)) {
    for (const secret of page) {
      counts.objects++;
      parsePemField(secret.data?.["tls.crt"]);
      parsePemField(secret.data?.["ca.crt"]);
    }
  }
}
for (
  const path of [
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
  ]
) {
  for await (const page of listPages(path)) {
    for (const configuration of page) {
      counts.objects++;
      for (const webhook of configuration.webhooks ?? []) {
        parsePemField(webhook.clientConfig?.caBundle);
      }
    }
  }
}
for await (const page of listPages("/apis/apiregistration.k8s.io/v1/apiservices")) {
  for (const apiService of page) {
    counts.objects++;
    parsePemField(apiService.spec?.caBundle);
  }
}
const ingressSecrets = new Set<string>();
for await (const page of listPages("/apis/networking.k8s.io/v1/ingresses")) {
  for (const ingress of page) {
    counts.objects++;
    for (const entry of ingress.spec?.tls ?? []) {
      ingressSecrets.add(`${ingress.metadata.namespace}/${entry.secretName}`);
    }
  }
}
for (const key of ingressSecrets) {
  const [namespace, name] = key.split("/");
  const secret = await get(`/api/v1/namespaces/${namespace}/secrets/${name}`);
  counts.secretReads++;
  parsePemField(secret.data?.["tls.crt"]);
}

/** Completes one TLS handshake and reads the served chain, as a prober must. */
function handshake(entry: string): Promise<void> {
  const [host, port, address] = entry.split(":");
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address,
      port: Number(port),
      servername: host,
      rejectUnauthorized: false,
    }, () => {
      socket.getPeerCertificate(true);
      socket.destroy();
      counts.handshakes++;
      resolve();
    });
    socket.once("error", reject);
  });
}

const queue = [...parameters.resolveEntries];
await Promise.all(
  Array.from({ length: parameters.concurrency }, async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) await handshake(entry);
  }),
);
client.close();

const result: WorkerResult = { wallMs: performance.now(), peakRssBytes: peakRssBytes(), counts };
console.log(JSON.stringify(result));
