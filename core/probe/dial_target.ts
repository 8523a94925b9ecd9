/**
 * The facts both handshake paths share: where to dial, which SNI to send, and what a handshake
 * returns.
 *
 * @module
 */
import type { ProbeAbortReason } from "./probe_failure.ts";

/** Connection parameters of one handshake: address, port, SNI and abort signal. */
export interface DialTarget {
  /** IP literal or DNS name to connect to, after resolver overrides. IPv6 without brackets. */
  address: string;
  port: number;
  /** DNS name to send as SNI, or `undefined` to send none. */
  serverName?: string;
  /** `host:port` of the dialed address, as failure messages name it. */
  peer: string;
  /** Aborted when the probe times out or is cancelled, with a {@linkcode ProbeAbortReason}. */
  signal: AbortSignal;
}

/** Facts read by a completed handshake. */
export interface HandshakeFacts {
  /** DER certificates as the server sent them, leaf first. */
  chain: Uint8Array[];
  tlsVersion?: string;
  cipherSuite?: string;
}

/** Returns the abort reason of a probe signal. */
export function abortReasonOf(signal: AbortSignal): ProbeAbortReason {
  return signal.reason as ProbeAbortReason;
}
