/**
 * The HTTP handler of `serve`: routes, request limits and security headers.
 *
 * | path               | content                                                      |
 * | ------------------ | ------------------------------------------------------------ |
 * | `/`                | web UI                                                       |
 * | metrics path       | Prometheus metrics                                           |
 * | `/healthz`         | 200, or 503 before the first scan or when scans have stalled |
 * | `/readyz`          | JSON status of the last scan; 503 until the first completes  |
 * | `/api/v1/snapshot` | the last snapshot, filtered by `?source=&severity=&namespace=` |
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { checkHealth, readinessOf } from "./health.ts";
import type { TrustwatchMetrics } from "./metrics.ts";
import type { ScanStatus } from "./scan_loop.ts";
import { FilterError, filterSnapshot, parseSnapshotFilter } from "./snapshot_filter.ts";
import { APP_SCRIPT } from "./ui/app_script.ts";
import { PAGE_HTML, SCRIPT_PATH, STYLESHEET_PATH } from "./ui/page.ts";
import { STYLESHEET } from "./ui/stylesheet.ts";

/**
 * Time limit of one request; a slower request gets a 503 response.
 * NOTE: it covers the handler only. Deno.serve has no option to bound the time a client takes to
 * send its headers.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Largest request body accepted; every route is read-only, so bodies are never needed. */
export const MAX_REQUEST_BODY_BYTES = 1024;
/** Maximum request URL length, in characters. */
export const MAX_URL_LENGTH = 8192;
/** Path of the snapshot API. */
export const SNAPSHOT_PATH = "/api/v1/snapshot";

/** Headers on every response: no framing, no sniffing, scripts and styles from this origin only. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  metrics: TrustwatchMetrics;
  /** Path of the metrics endpoint, e.g. `/metrics`. */
  metricsPath: string;
  /** Interval between scans in milliseconds, for the staleness check. */
  refreshEveryMs: number;
  /** Returns the scan loop's current status. */
  status: () => ScanStatus;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** @default {REQUEST_TIMEOUT_MS} */
  requestTimeoutMs?: number;
}

/** Builds the request handler for `Deno.serve`. */
export function createApp(options: AppOptions): (request: Request) => Promise<Response> {
  const logger = getLogger(["trustwatch", "serve", "http"]);
  const now = options.now ?? Date.now;
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;

  const route = async (url: URL): Promise<Response> => {
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return text(PAGE_HTML, "text/html; charset=utf-8");
      case SCRIPT_PATH:
        return text(APP_SCRIPT, "text/javascript; charset=utf-8");
      case STYLESHEET_PATH:
        return text(STYLESHEET, "text/css; charset=utf-8");
      case options.metricsPath:
        return text(await options.metrics.metrics(), options.metrics.contentType);
      case "/healthz": {
        const health = checkHealth(options.status(), now(), options.refreshEveryMs);
        return text(`${health.reason}\n`, "text/plain; charset=utf-8", health.healthy ? 200 : 503);
      }
      case "/readyz": {
        const readiness = readinessOf(options.status(), now());
        return json(readiness, readiness.ready ? 200 : 503);
      }
      case SNAPSHOT_PATH:
        return snapshotResponse(options.status(), url.searchParams);
      default:
        return json({ error: `no route for ${url.pathname}` }, 404);
    }
  };

  return async (request: Request): Promise<Response> => {
    const rejection = rejectRequest(request);
    if (rejection) return withSecurityHeaders(rejection);
    const url = new URL(request.url);

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        logger.warn("request {method} {path} timed out after {ms} ms", {
          method: request.method,
          path: url.pathname,
          ms: timeoutMs,
        });
        resolve(json({ error: "request timed out" }, 503));
      }, timeoutMs);
    });
    try {
      const response = await Promise.race([route(url), timeout]);
      return withSecurityHeaders(response);
    } catch (error) {
      logger.error("request {method} {path} failed: {message}", {
        method: request.method,
        path: url.pathname,
        message: (error as Error).message ?? String(error),
      });
      return withSecurityHeaders(json({ error: "internal error; see the server log" }, 500));
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Returns an error response for requests no route accepts, or undefined. */
function rejectRequest(request: Request): Response | undefined {
  if (request.method !== "GET" && request.method !== "HEAD") {
    const response = json({ error: `method ${request.method} not allowed; use GET` }, 405);
    response.headers.set("allow", "GET, HEAD");
    return response;
  }
  if (request.url.length > MAX_URL_LENGTH) {
    return json({ error: `URL longer than ${MAX_URL_LENGTH} characters` }, 414);
  }
  const length = Number(request.headers.get("content-length") ?? "0");
  if (
    !Number.isFinite(length) || length > MAX_REQUEST_BODY_BYTES ||
    request.headers.has("transfer-encoding")
  ) {
    return json({ error: `request body larger than ${MAX_REQUEST_BODY_BYTES} bytes` }, 413);
  }
  return undefined;
}

function snapshotResponse(status: ScanStatus, params: URLSearchParams): Response {
  if (!status.snapshot) return json({ error: "no scan has completed yet; retry shortly" }, 503);
  try {
    return json(filterSnapshot(status.snapshot, parseSnapshotFilter(params)));
  } catch (error) {
    if (error instanceof FilterError) return json({ error: error.message }, 400);
    throw error;
  }
}

function text(body: string, contentType: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": contentType } });
}

function json(body: unknown, status = 200): Response {
  return text(`${JSON.stringify(body)}\n`, "application/json; charset=utf-8", status);
}

function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    response.headers.set(name, value);
  }
  return response;
}
