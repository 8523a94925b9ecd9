/**
 * A small HTTPS client for sandbox tests: trusts the sandbox CA and sends its bearer token.
 *
 * @module
 */
import type { Sandbox } from "./server.ts";

/** A parsed JSON response. */
export interface JsonResponse {
  status: number;
  contentType: string | null;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Sends requests to a sandbox. Call close() when done, so no connection outlives the test. */
export class SandboxClient {
  #client: Deno.HttpClient;
  #sandbox: Sandbox;

  /** Creates a client that trusts the sandbox's CA. */
  constructor(sandbox: Sandbox) {
    this.#sandbox = sandbox;
    this.#client = Deno.createHttpClient({ caCerts: [sandbox.caPem] });
  }

  /** Sends a request and parses a JSON body. With `token: null` no Authorization is sent. */
  async request(
    path: string,
    init: { method?: string; body?: unknown; token?: string | null } = {},
  ): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = init.token === undefined ? this.#sandbox.token : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";

    const response = await fetch(this.#sandbox.url + path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      client: this.#client,
    });
    const text = await response.text();
    const contentType = response.headers.get("content-type");
    const isJson = contentType?.startsWith("application/json") ?? false;
    return { status: response.status, contentType, body: isJson ? JSON.parse(text) : text };
  }

  /** Closes the underlying HTTP client. */
  close(): void {
    this.#client.close();
  }
}
