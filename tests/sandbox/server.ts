/**
 * The sandbox cluster: a fake Kubernetes API server on loopback HTTPS that serves objects loaded
 * from YAML manifests, plus loopback TLS servers for the TLSBackend objects among them.
 *
 * @example Start a sandbox with one Secret and list it
 * ```ts
 * import { startSandbox } from "./server.ts";
 * import { namespace } from "./fixtures.ts";
 *
 * const sandbox = await startSandbox({ objects: [namespace("payments")] });
 * try {
 *   console.log(sandbox.kubeconfigPath);
 * } finally {
 *   await sandbox.close();
 * }
 * ```
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { createApiHandler, type RequestLogEntry } from "./api.ts";
import { isTlsBackend, type RunningBackend, startTlsBackend } from "./backends.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { loadManifests } from "./manifests.ts";
import { PodController } from "./pods.ts";
import type { KubeObject } from "./resources.ts";
import { ObjectStore } from "./store.ts";

export type { KubeObject } from "./resources.ts";
export type { RequestLogEntry } from "./api.ts";
export { ObjectStore } from "./store.ts";
export { freePort } from "./backends.ts";

/** Options of {@linkcode startSandbox}. */
export interface SandboxOptions {
  /**
   * YAML files or directories (searched recursively for `*.yaml` and `*.yml`). Documents may be
   * multi-document streams or `kind: List`.
   */
  manifests?: string[];
  /** Objects given directly, added after the manifests so they replace same-named ones. */
  objects?: KubeObject[];
  /** Bearer token required on every request. @default {a random token} */
  token?: string;
  /**
   * Namespaces the token may not read. While this is non-empty, cluster-wide lists of namespaced
   * resources are denied too, as for a token bound to namespaced Roles only.
   */
  forbiddenNamespaces?: string[];
  /** Deny listing namespaces. @default {false} */
  forbidNamespaceList?: boolean;
  /** Resource plurals the token may not use anywhere, namespaced or not. @default {[]} */
  forbiddenResources?: string[];
  /** Delay added to every API response, in milliseconds. @default {0} */
  latencyMs?: number;
  /**
   * Validity of the API server's own serving certificate.
   * @default {notBefore: a day ago, notAfter: in a year}
   */
  apiServerCertificate?: { notAfter?: Date; notBefore?: Date };
  /** Directory for the kubeconfig. @default {a new temporary directory, removed by close()} */
  dir?: string;
  /**
   * Images whose pull fails (ErrImagePull, then ImagePullBackOff). Images from a registry host
   * ending in `.invalid` fail too.
   */
  unpullableImages?: string[];
}

/** A running sandbox cluster. */
export interface Sandbox {
  /** API server URL, `https://127.0.0.1:PORT`. */
  url: string;
  /** Kubeconfig with cluster, user and context `sandbox`, set as current-context. */
  kubeconfigPath: string;
  /** PEM of the CA that signed the API server certificate. */
  caPem: string;
  token: string;
  /** `HOST:PORT:127.0.0.1` for every host of every TLSBackend, as `curl --resolve` takes it. */
  resolveEntries: string[];
  backends: { name: string; port: number; hosts: string[] }[];
  /** The served objects. Changes apply from the next request on. */
  objects: ObjectStore;
  /** Every handled API request in arrival order. */
  requestLog: RequestLogEntry[];
  /** The Pods created through the API and the relay subprocesses run for them. */
  pods: PodController;
  /** Stops the API server and the TLS backends. */
  close(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";
const TEMP_DIR_PREFIX = "trustwatch-sandbox-";
const DEFAULT_SERVING_DAYS = 365;
const CA_DAYS = 3650;

const logger = getLogger(["trustwatch", "sandbox"]);

/**
 * Starts a sandbox: loads manifests and objects, starts one TLS server per TLSBackend, serves the
 * API on an ephemeral loopback port and writes a kubeconfig. Throws ManifestError for an
 * invalid manifest and an Error when a TLSBackend or the API server cannot start. Nothing is
 * left running after a failure.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const loaded = [...await loadManifests(options.manifests ?? []), ...(options.objects ?? [])];
  const store = new ObjectStore(loaded.filter((object) => !isTlsBackend(object)));
  const token = options.token ?? randomToken();
  const serving = await issueServingCertificate(options.apiServerCertificate ?? {});
  const backends = await startBackends(loaded.filter(isTlsBackend));

  const requestLog: RequestLogEntry[] = [];
  let serverAddress = "";
  const access = {
    forbiddenNamespaces: new Set(options.forbiddenNamespaces ?? []),
    forbidNamespaceList: options.forbidNamespaceList ?? false,
    forbiddenResources: new Set(options.forbiddenResources ?? []),
  };
  const pods = new PodController({
    store,
    access,
    backendPorts: new Map(backends.map((backend) => [backend.name, backend.port])),
    resolveEntries: backendResolveEntries(backends),
    unpullableImages: new Set(options.unpullableImages ?? []),
  });
  const handler = createApiHandler({
    store,
    token,
    access,
    pods,
    latencyMs: options.latencyMs ?? 0,
    serverAddress: () => serverAddress,
    requestLog,
  });

  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let createdDir: string | undefined;
  const close = async () => {
    await pods.close();
    await server?.shutdown();
    await Promise.all(backends.map((backend) => backend.close()));
    if (createdDir) await Deno.remove(createdDir, { recursive: true });
  };

  let url: string;
  let kubeconfigPath: string;
  try {
    server = Deno.serve({
      hostname: LOOPBACK,
      port: 0,
      cert: serving.certPem,
      key: serving.keyPem,
      onListen: () => {},
    }, handler);
    serverAddress = `${LOOPBACK}:${server.addr.port}`;
    url = `https://${serverAddress}`;

    if (options.dir === undefined) {
      createdDir = await Deno.makeTempDir({ prefix: TEMP_DIR_PREFIX });
    }
    kubeconfigPath = await writeKubeconfig(options.dir ?? createdDir!, url, serving.caPem, token);
  } catch (error) {
    await close();
    throw error;
  }
  logger.info("sandbox API server listening on {url} with {objects} objects", {
    url,
    objects: store.types().reduce((sum, type) => sum + store.listByType(type).length, 0),
  });

  let closed: Promise<void> | undefined;
  const closeOnce = () => {
    closed ??= close().then(() => logger.info("sandbox API server on {url} stopped", { url }));
    return closed;
  };

  return {
    url,
    kubeconfigPath,
    caPem: serving.caPem,
    token,
    resolveEntries: backendResolveEntries(backends),
    backends: backends.map(({ name, port, hosts }) => ({ name, port, hosts })),
    objects: store,
    requestLog,
    pods,
    close: closeOnce,
  };
}

function backendResolveEntries(backends: RunningBackend[]): string[] {
  return backends.flatMap((backend) =>
    backend.hosts.map((host) => `${host}:${backend.port}:${LOOPBACK}`)
  );
}

async function startBackends(objects: KubeObject[]): Promise<RunningBackend[]> {
  const started: RunningBackend[] = [];
  try {
    for (const object of objects) started.push(await startTlsBackend(object));
  } catch (error) {
    await Promise.all(started.map((backend) => backend.close()));
    throw error;
  }
  return started;
}

/** Issues a CA and the API server's certificate for localhost and 127.0.0.1. */
async function issueServingCertificate(
  validity: { notAfter?: Date; notBefore?: Date },
): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const notBefore = validity.notBefore ?? daysFromNow(-1);
  const notAfter = validity.notAfter ?? daysFromNow(DEFAULT_SERVING_DAYS);
  const ca = await issueCertificate({
    commonName: "trustwatch sandbox CA",
    isCA: true,
    notBefore: new Date(Math.min(notBefore.getTime(), daysFromNow(-1).getTime()) - 60_000),
    notAfter: daysFromNow(CA_DAYS),
  });
  const leaf = await issueCertificate({
    commonName: "kube-apiserver",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ipAddresses: [LOOPBACK],
    issuer: ca,
    notBefore,
    notAfter,
  });
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
