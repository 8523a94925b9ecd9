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
import type { KubeConfig, User } from "@kubernetes/client-node";
import {
  firstLineOf,
  KubeconfigError,
  loadKubeconfig,
  readClusterCaPem,
  selectContext,
} from "./kubeconfig.ts";

export { KubeconfigError, SERVICE_ACCOUNT_ROOT_ENV } from "./kubeconfig.ts";

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
  /**
   * @param code Node.js error code such as `ECONNREFUSED`, when there is one.
   * @param message The server's origin followed by `detail`.
   * @param detail What failed and what to check, without the server.
   */
  constructor(readonly code: string | undefined, message: string, readonly detail = message) {
    super(message);
    this.name = "KubeConnectionError";
  }
}

/** A failure to get a request's credentials, such as an exec plugin that is missing or fails. */
export class KubeCredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeCredentialError";
  }
}

/** The API server a client connects to, for messages and for probing the server itself. */
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
 * Throws {@linkcode KubeconfigError} naming the file or context when the config is unusable.
 */
export async function connectToCluster(options: ConnectOptions = {}): Promise<KubeClient> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const config = new KubeConfig();
  const source = await loadKubeconfig(config, options.kubeconfig);
  const { context, cluster } = selectContext(config, source, options.context);
  const caPem = await readClusterCaPem(cluster, context.name);

  return new KubeClient(config, {
    contextName: context.name,
    server: cluster.server.replace(/\/+$/, ""),
    caPem,
    tlsServerName: cluster.tlsServerName,
    insecureSkipTLSVerify: cluster.skipTLSVerify ?? false,
  });
}

/** JSON requests against one API server, authenticated as the kubeconfig specifies. */
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
    try {
      await this.#config.applyToHTTPSOptions(options);
    } catch (error) {
      throw credentialErrorFrom(error, this.#config.getCurrentUser());
    }
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
  return new KubeConnectionError(code, `${url.origin}: ${hint}`, hint);
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

/**
 * Describes an error of connecting to or calling the API server in one line that names the
 * context, the server and the fix, for the CLI. Pass the client's `cluster` once it is known.
 * The line never contains tokens or key material.
 */
export function describeClusterError(error: unknown, cluster?: ClusterInfo): string {
  if (error instanceof KubeconfigError) return error.message;
  if (!cluster) return `cannot load the kubeconfig: ${firstLineOf(error)}`;

  const where = `context "${cluster.contextName}" (${cluster.server})`;
  if (error instanceof KubeApiError) {
    if (error.status === 401) {
      return `${where}: the API server rejected the credentials (401 Unauthorized); ` +
        "log in again or fix the user in the kubeconfig";
    }
    if (error.status === 403) {
      return `${where}: the API server denied the user access to ${error.path} (403 Forbidden); ` +
        "check the user's RBAC permissions";
    }
    return `${where}: the API server returned ${firstLineOf(error)} for ${error.path}`;
  }
  if (error instanceof KubeConnectionError) {
    return `${where}: cannot connect to the API server: ${firstLineOf(error.detail)}`;
  }
  return `${where}: ${firstLineOf(error)}`;
}

/** Turns a failure to prepare a request's credentials into a message naming the plugin or file. */
function credentialErrorFrom(error: unknown, user: User | null): KubeCredentialError {
  const details = error as Error & { code?: string; syscall?: string; path?: string };
  const exec = user?.exec ?? user?.authProvider?.config?.exec;

  if (exec) {
    const command = exec.command ? String(exec.command) : "";
    if (!command) {
      return new KubeCredentialError(
        `exec plugin of user "${user?.name}" has no command; set users[].user.exec.command`,
      );
    }
    if (details.syscall?.startsWith("spawn")) {
      return new KubeCredentialError(
        details.code === "ENOENT"
          ? `exec plugin ${command} not found; install it or fix users[].user.exec.command`
          : `exec plugin ${command} cannot be started (${details.code ?? firstLineOf(error)}); ` +
            "check that it is an executable file",
      );
    }
    // The parse error quotes the plugin's output, which may contain a token, so it is not shown.
    if (error instanceof SyntaxError || error instanceof TypeError) {
      return new KubeCredentialError(
        `exec plugin ${command} printed no valid ExecCredential JSON; run it by hand to see its output`,
      );
    }
    if (!details.code) {
      // client-node rejects with the plugin's stderr when it exits with a non-zero status.
      const stderr = firstLineOf(error);
      return new KubeCredentialError(
        `exec plugin ${command} failed: ${stderr || "it exited with an error and printed nothing"}`,
      );
    }
  }
  if (details.code && details.path) {
    return new KubeCredentialError(
      `cannot read ${details.path} named by the kubeconfig (${details.code}); fix the path in the kubeconfig`,
    );
  }
  return new KubeCredentialError(`cannot prepare the credentials: ${firstLineOf(error)}`);
}

/** Returns whether an error means the resource type is not served (absent group or CRD). */
export function isNotServed(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/** Returns whether an error is a 403 from RBAC. */
export function isForbidden(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 403;
}
