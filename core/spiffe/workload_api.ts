/**
 * A SPIFFE Workload API client for X.509 trust bundles, over gRPC on a unix socket
 * (`@grpc/grpc-js`), with hand-written message decoding so no `.proto` file is read at run time.
 *
 * It calls `FetchX509Bundles` for every bundle the workload trusts, and falls back to
 * `FetchX509SVID` (own and federated bundles) for agents that do not implement the former. Both
 * RPCs stream; the first message is the current state, so the call is cancelled after it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Client, Metadata, ServiceError } from "@grpc/grpc-js";
import {
  decodeX509BundlesResponse,
  decodeX509SvidResponse,
  type X509TrustBundle,
} from "./messages.ts";

/** Time allowed for connecting and receiving the first message, in milliseconds. */
export const DEFAULT_WORKLOAD_API_TIMEOUT_MS = 10_000;

/** Environment variable SPIFFE libraries read the Workload API address from. */
export const SPIFFE_ENDPOINT_SOCKET_ENV = "SPIFFE_ENDPOINT_SOCKET";

/** Metadata header every Workload API request must carry, so a proxied request is rejected. */
export const WORKLOAD_API_SECURITY_HEADER = "workload.spiffe.io";

/** gRPC method paths of the Workload API service (`SpiffeWorkloadAPI`, no proto package). */
export const WORKLOAD_API_METHODS = {
  fetchX509Bundles: "/SpiffeWorkloadAPI/FetchX509Bundles",
  fetchX509Svid: "/SpiffeWorkloadAPI/FetchX509SVID",
} as const;

/** gRPC status codes this client tells apart (grpc/status.proto). */
const GRPC_STATUS = {
  ok: 0,
  cancelled: 1,
  invalidArgument: 3,
  deadlineExceeded: 4,
  permissionDenied: 7,
  unimplemented: 12,
  unavailable: 14,
} as const;

const GRPC_STATUS_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  16: "UNAUTHENTICATED",
};

/** Options of {@linkcode fetchX509Bundles}. */
export interface FetchBundlesOptions {
  /** @default {DEFAULT_WORKLOAD_API_TIMEOUT_MS} */
  timeoutMs?: number;
  /** Aborting cancels the call. */
  signal?: AbortSignal;
}

/** The bundles read and the RPC that returned them. */
export interface FetchedBundles {
  bundles: X509TrustBundle[];
  method: keyof typeof WORKLOAD_API_METHODS;
}

/** A Workload API call failed; the message names the socket and what to do. */
export class WorkloadApiError extends Error {
  constructor(readonly socketPath: string, readonly grpcCode: number | undefined, message: string) {
    super(message);
    this.name = "WorkloadApiError";
  }
}

/**
 * Returns the filesystem path of a Workload API address: `unix:///run/spire/agent.sock`,
 * `unix:/run/spire/agent.sock` and `/run/spire/agent.sock` all give `/run/spire/agent.sock`.
 * Throws {@linkcode WorkloadApiError} for a `tcp:` address or a relative path.
 */
export function socketPathOf(address: string): string {
  const path = address.replace(/^unix:(\/\/)?/, "");
  if (!path.startsWith("/")) {
    throw new WorkloadApiError(
      address,
      undefined,
      `SPIFFE Workload API address "${address}" is not an absolute unix socket path; ` +
        "set --spiffe-socket to e.g. unix:///run/spire/sockets/agent.sock",
    );
  }
  return path;
}

/**
 * Reads every X.509 trust bundle the Workload API at `address` gives this workload. Rejects
 * with {@linkcode WorkloadApiError} when the socket is missing, the call fails or times out, or
 * the response does not decode.
 *
 * @example
 * ```ts
 * const { bundles } = await fetchX509Bundles("unix:///run/spire/sockets/agent.sock");
 * for (const bundle of bundles) console.log(bundle.trustDomain, bundle.der.length);
 * ```
 */
export async function fetchX509Bundles(
  address: string,
  options: FetchBundlesOptions = {},
): Promise<FetchedBundles> {
  const socketPath = socketPathOf(address);
  await checkSocket(socketPath);

  const grpc = await import("@grpc/grpc-js");
  const client = new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set(WORKLOAD_API_SECURITY_HEADER, "true");
  try {
    try {
      const message = await firstMessage(client, socketPath, metadata, "fetchX509Bundles", options);
      return {
        bundles: decode(socketPath, "fetchX509Bundles", message),
        method: "fetchX509Bundles",
      };
    } catch (error) {
      if (!(error instanceof WorkloadApiError) || error.grpcCode !== GRPC_STATUS.unimplemented) {
        throw error;
      }
    }
    const message = await firstMessage(client, socketPath, metadata, "fetchX509Svid", options);
    return { bundles: decode(socketPath, "fetchX509Svid", message), method: "fetchX509Svid" };
  } finally {
    client.close();
  }
}

async function checkSocket(socketPath: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(socketPath);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : `cannot be read (${(error as Error).message})`;
    throw new WorkloadApiError(
      socketPath,
      undefined,
      `SPIFFE Workload API socket ${socketPath} ${reason}; start the SPIRE agent (or another ` +
        "Workload API server) or point --spiffe-socket / spiffeSocket at its socket",
    );
  }
  if (!info.isSocket) {
    throw new WorkloadApiError(
      socketPath,
      undefined,
      `SPIFFE Workload API socket ${socketPath} is not a unix socket; point --spiffe-socket / ` +
        "spiffeSocket at the agent's socket, e.g. /run/spire/sockets/agent.sock",
    );
  }
}

function firstMessage(
  client: Client,
  socketPath: string,
  metadata: Metadata,
  method: keyof typeof WORKLOAD_API_METHODS,
  options: FetchBundlesOptions,
): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WORKLOAD_API_TIMEOUT_MS;
  const path = WORKLOAD_API_METHODS[method];
  const rpc = path.slice(path.lastIndexOf("/") + 1);

  return new Promise((resolve, reject) => {
    let settled = false;
    const call = client.makeServerStreamRequest(
      path,
      (request: Uint8Array) => Buffer.from(request),
      (response: Uint8Array) => new Uint8Array(response),
      new Uint8Array(0),
      metadata,
      { deadline: Date.now() + timeoutMs },
    );
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const onAbort = () => {
      settle(() => reject(new WorkloadApiError(socketPath, GRPC_STATUS.cancelled, "cancelled")));
      call.cancel();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    call.on("data", (message: Uint8Array) => {
      settle(() => resolve(message));
      call.cancel();
    });
    call.on("error", (error: ServiceError) => {
      settle(() => reject(callError(socketPath, rpc, error, timeoutMs)));
    });
    call.on("end", () => {
      settle(() =>
        reject(
          new WorkloadApiError(
            socketPath,
            undefined,
            `SPIFFE Workload API at ${socketPath}: ${rpc} ended without sending any bundle`,
          ),
        )
      );
    });
  });
}

function decode(
  socketPath: string,
  method: keyof typeof WORKLOAD_API_METHODS,
  message: Uint8Array,
): X509TrustBundle[] {
  try {
    return method === "fetchX509Bundles"
      ? decodeX509BundlesResponse(message)
      : decodeX509SvidResponse(message);
  } catch (error) {
    throw new WorkloadApiError(
      socketPath,
      undefined,
      `SPIFFE Workload API at ${socketPath}: the ${
        WORKLOAD_API_METHODS[method].slice(1)
      } response does not decode (${(error as Error).message}); is this a Workload API socket?`,
    );
  }
}

function callError(
  socketPath: string,
  rpc: string,
  error: ServiceError,
  timeoutMs: number,
): WorkloadApiError {
  const name = GRPC_STATUS_NAMES[error.code] ?? `status ${error.code}`;
  const prefix = `SPIFFE Workload API at ${socketPath}: ${rpc} failed with ${name}`;
  const details = error.details ? ` (${error.details})` : "";
  let hint: string;
  switch (error.code) {
    case GRPC_STATUS.unavailable:
      hint = "; the socket exists but nothing answers gRPC on it: is the SPIRE agent running?";
      break;
    case GRPC_STATUS.deadlineExceeded:
      hint = `; no answer within ${timeoutMs / 1000}s: check the agent's health and logs`;
      break;
    case GRPC_STATUS.permissionDenied:
      hint = "; the agent issued no identity to this workload: register it with the SPIRE " +
        "server (spire-server entry create) with selectors that match trustwatch's pod";
      break;
    case GRPC_STATUS.invalidArgument:
      hint = "; the server rejected the request, e.g. for a missing workload.spiffe.io header";
      break;
    default:
      hint = "; check the agent's logs";
  }
  return new WorkloadApiError(socketPath, error.code, `${prefix}${details}${hint}`);
}
