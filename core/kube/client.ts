/**
 * A small JSON client for the Kubernetes API: kubeconfig (several files merged, as kubectl does),
 * in-cluster service-account config, exec plugins and client certificates through
 * `@kubernetes/client-node`, and raw JSON requests with pagination on top.
 *
 * Raw JSON keeps list pages cheap: objects are handed on as they arrive, not converted into model
 * classes first.
 *
 * @module
 */
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** Items per list page: large enough to keep round trips few, small enough to bound memory. */
export const DEFAULT_PAGE_SIZE = 500;
/** Time limit of one API request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Largest response body accepted, so a hostile or broken server cannot exhaust memory. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** A Kubernetes object as returned by the API: only the fields every object has are typed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  // deno-lint-ignore no-explicit-any
  [key: string]: any;
}

/** An HTTP error from the API server, with the `Status` reason and message when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** The API server could not be reached, or the TLS connection to it failed. */
export class KubeConnectionError extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
    this.name = "KubeConnectionError";
  }
}

/** Where a client connects, for messages and for probing the API server itself. */
export interface ClusterInfo {
  contextName: string;
  server: string;
  /** PEM of the CA the kubeconfig trusts for the API server, when it names one. */
  caPem?: string;
  tlsServerName?: string;
  insecureSkipTLSVerify: boolean;
}

/** Options of {@linkcode connectToCluster}. */
export interface ConnectOptions {
  /** kubeconfig path; otherwise `KUBECONFIG` (several paths merged) or `~/.kube/config`. */
  kubeconfig?: string;
  context?: string;
}

/** List query parameters. */
export interface ListQuery {
  fieldSelector?: string;
  labelSelector?: string;
  /** @default {DEFAULT_PAGE_SIZE} */
  limit?: number;
}

/**
 * Loads a kubeconfig (or in-cluster config when there is none) and returns a client for it.
 * Throws an Error naming the file or context when the config is unusable.
 */
export async function connectToCluster(options: ConnectOptions = {}): Promise<KubeClient> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const config = new KubeConfig();
  loadConfig(config, options.kubeconfig);
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      const known = config.getContexts().map((context) => context.name).join(", ") || "none";
      throw new Error(
        `context "${options.context}" not found in kubeconfig; known contexts: ${known}`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new Error(
      "no cluster configured: set --kubeconfig or KUBECONFIG, or run inside a cluster with a service account",
    );
  }
  const caPem = cluster.caData
    ? atob(cluster.caData)
    : cluster.caFile
    ? await Deno.readTextFile(cluster.caFile)
    : undefined;
  return new KubeClient(config, {
    contextName: config.getCurrentContext() || "in-cluster",
    server: cluster.server.replace(/\/+$/, ""),
    caPem,
    tlsServerName: cluster.tlsServerName,
    insecureSkipTLSVerify: cluster.skipTLSVerify ?? false,
  });
}

/**
 * Root under which the in-cluster service-account files are read
 * (`<root>/var/run/secrets/kubernetes.io/serviceaccount/`); empty means `/`. Set for tests and for
 * pods that mount the token elsewhere.
 */
export const SERVICE_ACCOUNT_ROOT_ENV = "TRUSTWATCH_SERVICE_ACCOUNT_ROOT";

/**
 * Loads the kubeconfig as kubectl does: `--kubeconfig`, else `KUBECONFIG` (several paths merged,
 * the first file winning), else `~/.kube/config`, else the pod's service account.
 */
function loadConfig(config: KubeConfig, kubeconfig: string | undefined): void {
  if (kubeconfig) {
    config.loadFromFile(kubeconfig);
    return;
  }
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const homeConfig = home ? `${home}/.kube/config` : undefined;
  if (Deno.env.get("KUBECONFIG") || (homeConfig && fileExists(homeConfig))) {
    // Like kubectl, the first file that sets current-context decides it.
    config.loadFromDefault(undefined, true);
    return;
  }
  if (Deno.env.get("KUBERNETES_SERVICE_HOST")) {
    config.loadFromCluster(Deno.env.get(SERVICE_ACCOUNT_ROOT_ENV) ?? "");
    return;
  }
  throw new Error(
    "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod",
  );
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** JSON requests against one API server, authenticated as the kubeconfig says. */
export class KubeClient {
  readonly cluster: ClusterInfo;
  #config: KubeConfig;

  constructor(config: KubeConfig, cluster: ClusterInfo) {
    this.#config = config;
    this.cluster = cluster;
  }

  /** GETs a path and returns the parsed JSON; throws {@linkcode KubeApiError} or {@linkcode KubeConnectionError}. */
  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#request<T>("GET", path, undefined, signal);
  }

  /** POSTs a JSON body and returns the parsed JSON response. */
  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.#request<T>("POST", path, body, signal);
  }

  /** DELETEs an object, optionally with DeleteOptions as the body, and returns the response. */
  delete<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.#request<T>("DELETE", path, body, signal);
  }

  /**
   * The loaded `@kubernetes/client-node` configuration, for the library's streaming helpers
   * (watch, port-forward) that this JSON client does not wrap.
   */
  get kubeConfig(): KubeConfig {
    return this.#config;
  }

  /**
   * Lists a collection page by page with `limit` and `continue`, yielding each page's items as it
   * arrives, so callers can drop raw objects before the next page is fetched.
   */
  async *listPages(
    path: string,
    query: ListQuery = {},
    signal?: AbortSignal,
  ): AsyncGenerator<KubeObject[]> {
    let continueToken: string | undefined;
    do {
      const params = new URLSearchParams({ limit: String(query.limit ?? DEFAULT_PAGE_SIZE) });
      if (query.fieldSelector) params.set("fieldSelector", query.fieldSelector);
      if (query.labelSelector) params.set("labelSelector", query.labelSelector);
      if (continueToken) params.set("continue", continueToken);
      const page = await this.get<{ items?: KubeObject[]; metadata?: { continue?: string } }>(
        `${path}?${params}`,
        signal,
      );
      continueToken = page.metadata?.continue || undefined;
      yield page.items ?? [];
    } while (continueToken);
  }

  /** Returns every item of a collection; prefer {@linkcode listPages} for large ones. */
  async listAll(path: string, query: ListQuery = {}, signal?: AbortSignal): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    for await (const page of this.listPages(path, query, signal)) items.push(...page);
    return items;
  }

  async #request<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const url = new URL(this.cluster.server + path);
    const options: https.RequestOptions = {
      method,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port || 443,
      path: url.pathname + url.search,
      headers: { Accept: "application/json" },
      timeout: DEFAULT_REQUEST_TIMEOUT_MS,
      signal,
    };
    await this.#config.applyToHTTPSOptions(options);
    if (this.cluster.tlsServerName) options.servername = this.cluster.tlsServerName;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      options.headers = { ...options.headers, "Content-Type": "application/json" };
    }

    const { status, text } = await sendRequest(url, options, payload);
    if (status >= 200 && status < 300) return JSON.parse(text) as T;
    throw apiErrorFrom(status, path, text);
  }
}

function sendRequest(
  url: URL,
  options: https.RequestOptions,
  payload: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(options, (response) => {
      const chunks: Uint8Array[] = [];
      let size = 0;
      response.on("data", (chunk: Uint8Array) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          request.destroy(
            new Error(`response from ${url.origin} exceeds ${MAX_RESPONSE_BYTES} bytes`),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.on("end", () => {
        resolve({
          status: response.statusCode ?? 0,
          text: new TextDecoder().decode(concat(chunks)),
        });
      });
      response.on("error", (error) => reject(connectionErrorFrom(url, error)));
    });
    request.on("timeout", () => {
      request.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }));
    });
    request.on("error", (error) => reject(connectionErrorFrom(url, error)));
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const size = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

const CONNECTION_HINTS: Record<string, string> = {
  ECONNREFUSED: "connection refused; is the API server running and the address right?",
  ENOTFOUND: "host not found; check the server address in the kubeconfig",
  ETIMEDOUT: "timed out; check the network path to the API server",
  ECONNRESET: "connection reset by the server",
  ABORT_ERR: "cancelled",
};

function connectionErrorFrom(url: URL, error: Error & { code?: string }): KubeConnectionError {
  const code = error.code ?? (error.name === "AbortError" ? "ABORT_ERR" : undefined);
  const hint = (code && CONNECTION_HINTS[code]) ??
    (/certificate|self.signed|unknown ca|issuer/i.test(error.message)
      ? `TLS verification failed (${error.message}); check certificate-authority-data in the kubeconfig`
      : error.message);
  return new KubeConnectionError(code, `${url.origin}: ${hint}`);
}

function apiErrorFrom(status: number, path: string, text: string): KubeApiError {
  let reason = "";
  let message = text.slice(0, 200);
  try {
    const parsed = JSON.parse(text);
    if (parsed?.kind === "Status") {
      reason = parsed.reason ?? "";
      message = parsed.message ?? message;
    }
  } catch {
    // Not JSON: keep the start of the body as the message.
  }
  return new KubeApiError(status, reason, path, `${status} ${reason || "error"}: ${message}`);
}

/** Returns whether an error means the resource type is not served (absent group or CRD). */
export function isNotServed(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/** Returns whether an error is a 403 from RBAC. */
export function isForbidden(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 403;
}
