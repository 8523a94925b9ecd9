/**
 * The one prober every endpoint goes through: bounded concurrency, one timer per probe,
 * cancellation, resolver overrides and deduplication, over a `node:tls` handshake with a
 * plain-socket fallback for servers that rustls rejects.
 *
 * The prober reads chains and never verifies trust. Chains are verified from the returned DER.
 *
 * @module
 */
import { isIP } from "node:net";
import { timerDurationProblem } from "../duration.ts";
import type { DialTarget, HandshakeFacts } from "./dial_target.ts";
import { type Dialer, DirectDialer } from "./dialer.ts";
import { handshakeLegacy } from "./legacy_handshake.ts";
import { handshakeWithNodeTls } from "./node_tls_handshake.ts";
import { assessPosture } from "./posture.ts";
import {
  errorMessage,
  type ProbeAbortReason,
  type ProbeErrorCode,
  ProbeFailure,
} from "./probe_failure.ts";
import type { ResolveMap } from "./resolve.ts";
import {
  acceptedVersionIssue,
  DEFAULT_VERSION_PROBE_TIMEOUT_MS,
  LEGACY_TLS_VERSIONS,
  scanLegacyVersions,
} from "./version_scan.ts";

export type { ProbeErrorCode } from "./probe_failure.ts";

/** Time allowed per probe for connect, handshake and fallback, in milliseconds. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Probes in flight at once. */
export const DEFAULT_PROBE_CONCURRENCY = 16;

/** An endpoint to handshake with. */
export interface Endpoint {
  /** DNS name or IP literal. An IPv6 literal may be written with or without brackets. */
  host: string;
  port: number;
  /**
   * Server name sent as SNI. Defaults to `host`, or to no SNI when `host` is an IP literal. An
   * empty string sends no SNI.
   */
  sni?: string;
}

/** Result of one probe: the chain and negotiated parameters, or the failure. */
export interface ProbeResult {
  /** Whether a certificate chain was read. */
  ok: boolean;
  /** DER certificates exactly as the server sent them, leaf first. Empty when `ok` is false. */
  chain: Uint8Array[];
  /** Negotiated protocol: `TLSv1.3`, `TLSv1.2`, `TLSv1.1` or `TLSv1`. */
  tlsVersion?: string;
  /** Negotiated cipher suite, IANA name (`TLS_AES_128_GCM_SHA256`). */
  cipherSuite?: string;
  /** Protocol posture problems: deprecated TLS versions and weak cipher suites. */
  postureIssues: string[];
  /** Whether the chain was read with the plain-socket TLS 1.2 ClientHello fallback. */
  legacyHandshake: boolean;
  /**
   * Deprecated versions (`TLSv1`, `TLSv1.1`) the server accepts, the negotiated one included;
   * set only when the prober ran a version scan after a successful handshake.
   */
  acceptedLegacyVersions?: string[];
  /** One line: what failed, at which address, and a hint. */
  error?: string;
  errorCode?: ProbeErrorCode;
  /** `host:port` actually dialed, after resolver overrides. IPv6 in brackets. */
  address: string;
}

/** Logger for probe events, matching `@logtape/logtape`'s `Logger` methods. */
export interface ProbeLogger {
  debug(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
}

/** Options of a {@linkcode Prober}. */
export interface ProberOptions {
  /**
   * Time allowed per probe, covering connect, handshake and fallback, in milliseconds. The timer
   * starts when the probe leaves the queue.
   * @default {DEFAULT_PROBE_TIMEOUT_MS}
   */
  timeoutMs?: number;
  /**
   * Maximum probes in flight. Further probes wait in a queue.
   * @default {DEFAULT_PROBE_CONCURRENCY}
   */
  concurrency?: number;
  /** Resolver overrides, as curl `--resolve`. */
  resolve?: ResolveMap;
  /**
   * Dial only endpoints that `resolve` maps and loopback IP literals; others fail as
   * `UNREACHABLE` without any DNS lookup or connection. For tests and air-gapped runs that must
   * not reach other hosts.
   * @default {false}
   */
  resolveOnly?: boolean;
  /** Aborting cancels queued and in-flight probes, which resolve with `CANCELLED`. */
  signal?: AbortSignal;
  /** Receives debug events at probe start, fallback and finish, and warnings for internal errors. */
  logger?: ProbeLogger;
  /**
   * Opens the TCP connection of every handshake, the fallback's included: directly, through a
   * SOCKS5 relay, or through a port-forward.
   * @default {a DirectDialer}
   */
  dialer?: Dialer;
  /**
   * After a successful handshake, offer TLS 1.0 and TLS 1.1 alone, one short handshake each
   * through the same dialer, and report the ones the server accepts.
   * @default {false}
   */
  scanLegacyVersions?: boolean;
}

/** Error codes after which the plain-socket fallback is tried: the TLS layer failed. */
const FALLBACK_ERROR_CODES: ReadonlySet<ProbeErrorCode> = new Set(["HANDSHAKE", "RESET"]);

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function isLoopbackLiteral(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";
}

function formatAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Returns the SNI a probe of the endpoint sends, or `undefined` when it sends none. */
export function serverNameOf(endpoint: Endpoint): string | undefined {
  if (endpoint.sni !== undefined) return endpoint.sni === "" ? undefined : endpoint.sni;
  const host = unbracket(endpoint.host);
  return isIP(host) === 0 ? host : undefined;
}

/** Formats an endpoint as `host:port`, with an IPv6 host in brackets. */
export function formatEndpoint(endpoint: Endpoint): string {
  return formatAddress(unbracket(endpoint.host), endpoint.port);
}

/**
 * Dials endpoints and reads their certificate chains, with bounded concurrency, one timer per
 * probe and cancellation. Results are cached per `host:port:sni` for the life of the prober, so
 * create one prober per scan.
 *
 * @example
 * ```ts
 * const prober = new Prober({ timeoutMs: 5_000, concurrency: 8 });
 * const result = await prober.probe({ host: "webhook.payments.svc", port: 443 });
 * if (!result.ok) console.error(result.error);
 * ```
 */
export class Prober {
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #resolve?: ResolveMap;
  readonly #resolveOnly: boolean;
  readonly #signal?: AbortSignal;
  readonly #logger?: ProbeLogger;
  readonly #dialer: Dialer;
  readonly #scanLegacyVersions: boolean;
  readonly #results = new Map<string, Promise<ProbeResult>>();
  readonly #waiting: Array<(granted: boolean) => void> = [];
  #active = 0;

  /**
   * Creates a prober. Throws `RangeError` when `timeoutMs` is not more than 0 and at most
   * `MAX_TIMER_DURATION_MS`, or `concurrency` is not a positive integer.
   */
  constructor(options: ProberOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.#concurrency = options.concurrency ?? DEFAULT_PROBE_CONCURRENCY;
    const timeoutProblem = timerDurationProblem(this.#timeoutMs);
    if (timeoutProblem) {
      throw new RangeError(`invalid probe timeout ${this.#timeoutMs}ms: ${timeoutProblem}`);
    }
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(
        `invalid probe concurrency ${this.#concurrency}: expected an integer of 1 or more`,
      );
    }

    this.#resolve = options.resolve;
    this.#resolveOnly = options.resolveOnly ?? false;
    this.#signal = options.signal;
    this.#logger = options.logger;
    this.#dialer = options.dialer ?? new DirectDialer();
    this.#scanLegacyVersions = options.scanLegacyVersions ?? false;
    this.#signal?.addEventListener("abort", () => this.#releaseWaiting(), { once: true });
  }

  /**
   * Probes an endpoint and resolves with what was read. Never rejects: every failure is a result
   * with `ok: false`. Probes of the same host, port and SNI share one handshake.
   */
  probe(endpoint: Endpoint): Promise<ProbeResult> {
    const host = unbracket(endpoint.host);
    const serverName = serverNameOf(endpoint);
    const key = `${host.toLowerCase()}:${endpoint.port}:${serverName ?? ""}`;

    let result = this.#results.get(key);
    if (!result) {
      result = this.#queueProbe(host, endpoint.port, serverName);
      this.#results.set(key, result);
    }
    return result;
  }

  async #queueProbe(host: string, port: number, serverName?: string): Promise<ProbeResult> {
    const override = this.#resolve?.addressFor(host, port);
    const address = override ?? host;
    const peer = formatAddress(address, port);
    const endpoint = `${host}:${port}`;

    if (override === undefined && this.#resolveOnly && !isLoopbackLiteral(host)) {
      const failure = new ProbeFailure(
        "UNREACHABLE",
        `not dialed: ${formatAddress(host, port)} has no --resolve entry and --resolve-only is set`,
      );
      return failedResult(peer, failure);
    }

    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      const failure = new ProbeFailure(
        "UNREACHABLE",
        `invalid port ${port} for ${host}: expected an integer from 1 to 65535`,
      );
      return failedResult(peer, failure);
    }

    const granted = await this.#acquireSlot();
    if (!granted) {
      const failure = new ProbeFailure("CANCELLED", `probe of ${peer} cancelled before it started`);
      return failedResult(peer, failure);
    }

    try {
      this.#logger?.debug("probe started", {
        endpoint,
        address: peer,
        sni: serverName,
        route: this.#dialer.route,
      });
      const result = await this.#runProbe({ address, port, serverName, peer });
      this.#logger?.debug("probe finished", {
        endpoint,
        address: peer,
        ok: result.ok,
        errorCode: result.errorCode,
        tlsVersion: result.tlsVersion,
        legacyHandshake: result.legacyHandshake,
      });
      return result;
    } finally {
      this.#releaseSlot();
    }
  }

  async #runProbe(target: Omit<DialTarget, "signal">): Promise<ProbeResult> {
    const controller = new AbortController();
    const abort = (code: ProbeAbortReason["code"]) => {
      const reason: ProbeAbortReason = { code, timeoutMs: this.#timeoutMs };
      controller.abort(reason);
    };
    const timer = setTimeout(() => abort("TIMEOUT"), this.#timeoutMs);
    const onCancel = () => abort("CANCELLED");
    if (this.#signal?.aborted) onCancel();
    this.#signal?.addEventListener("abort", onCancel, { once: true });

    const dial: DialTarget = { ...target, signal: controller.signal };
    try {
      const result = await this.#handshake(dial);
      if (result.ok && this.#scanLegacyVersions) await this.#addVersionScan(result, dial);
      return result;
    } catch (error) {
      if (error instanceof ProbeFailure) return failedResult(target.peer, error);

      this.#logger?.warn("probe failed with an unexpected error", {
        address: target.peer,
        error: errorMessage(error),
      });
      const failure = new ProbeFailure(
        "HANDSHAKE",
        `probe of ${target.peer} failed: ${errorMessage(error)}`,
      );
      return failedResult(target.peer, failure);
    } finally {
      clearTimeout(timer);
      this.#signal?.removeEventListener("abort", onCancel);
    }
  }

  /** Records the deprecated versions the server accepts besides the one it negotiated. */
  async #addVersionScan(result: ProbeResult, target: DialTarget): Promise<void> {
    const versions = LEGACY_TLS_VERSIONS
      .map((version) => version.name)
      .filter((name) => name !== result.tlsVersion);
    const accepted = await scanLegacyVersions(target, (dial) => this.#dialer.dial(dial), {
      versions,
      timeoutMs: Math.min(this.#timeoutMs, DEFAULT_VERSION_PROBE_TIMEOUT_MS),
    });
    const negotiated = LEGACY_TLS_VERSIONS.some((version) => version.name === result.tlsVersion)
      ? [result.tlsVersion!]
      : [];
    result.acceptedLegacyVersions = [...negotiated, ...accepted];
    for (const version of accepted) {
      result.postureIssues.push(acceptedVersionIssue(version, result.tlsVersion));
    }
    this.#logger?.debug("version scan finished", { address: target.peer, accepted });
  }

  /** Tries `node:tls`, then the plain-socket fallback when the TLS layer failed. */
  async #handshake(target: DialTarget): Promise<ProbeResult> {
    let primaryFailure: ProbeFailure;
    try {
      const socket = await this.#dialer.dial(target);
      return successResult(target.peer, await handshakeWithNodeTls(target, socket), false);
    } catch (error) {
      if (!(error instanceof ProbeFailure) || !FALLBACK_ERROR_CODES.has(error.code)) throw error;
      primaryFailure = error;
    }

    this.#logger?.debug(
      "TLS handshake failed, retrying with a TLS 1.2 ClientHello on a plain socket",
      {
        address: target.peer,
        sni: target.serverName,
        error: primaryFailure.message,
      },
    );

    try {
      const socket = await this.#dialer.dial(target);
      return successResult(target.peer, await handshakeLegacy(target, socket), true);
    } catch (error) {
      if (!(error instanceof ProbeFailure)) throw error;
      throw combineFailures(primaryFailure, error);
    }
  }

  #acquireSlot(): Promise<boolean> {
    if (this.#signal?.aborted) return Promise.resolve(false);
    if (this.#active < this.#concurrency) {
      this.#active += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #releaseSlot(): void {
    const next = this.#waiting.shift();
    if (next) {
      next(true);
      return;
    }
    this.#active -= 1;
  }

  #releaseWaiting(): void {
    for (const waiter of this.#waiting.splice(0)) waiter(false);
  }
}

/**
 * Picks the failure to report when both paths failed. The fallback's own failure wins when it
 * is more specific (non-TLS data, timeout, cancellation). Otherwise the `node:tls` failure is reported
 * with the fallback's reason appended.
 */
function combineFailures(primary: ProbeFailure, fallback: ProbeFailure): ProbeFailure {
  if (fallback.code === "NOT_TLS" || fallback.code === "TIMEOUT" || fallback.code === "CANCELLED") {
    return fallback;
  }
  return new ProbeFailure(
    primary.code,
    `${primary.message} (TLS 1.2 fallback also failed: ${fallback.message})`,
  );
}

function successResult(address: string, facts: HandshakeFacts, legacy: boolean): ProbeResult {
  if (facts.chain.length === 0) {
    const failure = new ProbeFailure(
      "HANDSHAKE",
      `${address} completed the TLS handshake without a certificate`,
    );
    return failedResult(address, failure);
  }
  return {
    ok: true,
    chain: facts.chain,
    tlsVersion: facts.tlsVersion,
    cipherSuite: facts.cipherSuite,
    postureIssues: assessPosture(facts.tlsVersion, facts.cipherSuite),
    legacyHandshake: legacy,
    address,
  };
}

function failedResult(address: string, failure: ProbeFailure): ProbeResult {
  return {
    ok: false,
    chain: [],
    postureIssues: [],
    legacyHandshake: false,
    error: failure.message,
    errorCode: failure.code,
    address,
  };
}
