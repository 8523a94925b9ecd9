/**
 * Probe failures: the error codes a probe reports and the mapping from socket errors to them.
 *
 * @module
 */

/** Reason code of a probe that read no certificate chain. */
export type ProbeErrorCode =
  | "TIMEOUT"
  | "REFUSED"
  | "UNREACHABLE"
  | "DNS"
  | "NOT_TLS"
  | "HANDSHAKE"
  | "RESET"
  | "CANCELLED";

/** A failed probe step, with the code and the one-line message the probe result carries. */
export class ProbeFailure extends Error {
  readonly code: ProbeErrorCode;

  constructor(code: ProbeErrorCode, message: string) {
    super(message);
    this.name = "ProbeFailure";
    this.code = code;
  }
}

/** The reason a probe's signal was aborted: its timer fired, or the caller cancelled the scan. */
export interface ProbeAbortReason {
  code: "TIMEOUT" | "CANCELLED";
  timeoutMs: number;
}

/** Formats milliseconds for messages: `10s`, `1.5s`, `300ms`. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${milliseconds}ms`;
  return `${Number((milliseconds / 1000).toFixed(1))}s`;
}

/**
 * Builds the failure for an aborted dial. `connected` is whether the TCP connection was up,
 * so the timeout message names the step that stalled: TCP connect or TLS handshake.
 */
export function abortFailure(
  reason: ProbeAbortReason,
  peer: string,
  connected: boolean,
): ProbeFailure {
  if (reason.code === "CANCELLED") {
    return new ProbeFailure("CANCELLED", `probe of ${peer} cancelled`);
  }

  const limit = formatDuration(reason.timeoutMs);
  if (!connected) {
    return new ProbeFailure("TIMEOUT", `no TCP connection to ${peer} within ${limit}`);
  }
  return new ProbeFailure("TIMEOUT", `no TLS handshake within ${limit} from ${peer}`);
}

const TRANSPORT_ERROR_CODES: Record<string, ProbeErrorCode> = {
  ECONNREFUSED: "REFUSED",
  ENOTFOUND: "DNS",
  EAI_AGAIN: "DNS",
  EAI_NONAME: "DNS",
  EAI_NODATA: "DNS",
  EAI_FAIL: "DNS",
  EHOSTUNREACH: "UNREACHABLE",
  ENETUNREACH: "UNREACHABLE",
  EADDRNOTAVAIL: "UNREACHABLE",
  ENETDOWN: "UNREACHABLE",
  EHOSTDOWN: "UNREACHABLE",
  ECONNRESET: "RESET",
  ECONNABORTED: "RESET",
  EPIPE: "RESET",
  ETIMEDOUT: "TIMEOUT",
};

/**
 * Maps a socket error to a transport failure (refused, DNS, unreachable, reset, timeout), or
 * returns `undefined` when the error came from the TLS layer.
 */
export function transportFailure(error: unknown, peer: string): ProbeFailure | undefined {
  const code = (error as { code?: unknown })?.code;
  const probeCode = typeof code === "string" ? TRANSPORT_ERROR_CODES[code] : undefined;

  switch (probeCode) {
    case "REFUSED":
      return new ProbeFailure("REFUSED", `connection refused by ${peer}`);
    case "DNS":
      return new ProbeFailure("DNS", `DNS lookup for ${peer} failed (${code})`);
    case "UNREACHABLE":
      return new ProbeFailure("UNREACHABLE", `${peer} is unreachable (${code})`);
    case "RESET":
      return new ProbeFailure("RESET", `connection to ${peer} was reset during the TLS handshake`);
    case "TIMEOUT":
      return new ProbeFailure("TIMEOUT", `connection to ${peer} timed out (${code})`);
    default:
      return undefined;
  }
}

/** Returns the message of any thrown value, on one line. */
export function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim();
}
