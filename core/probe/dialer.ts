/**
 * Dialers: how the prober opens the TCP connection a TLS handshake runs over. Directly, through
 * a SOCKS5 relay (the `socks` client), or through any other route that ends in a connected socket,
 * such as a port-forward.
 *
 * @module
 */
import { connect, isIP, type Socket } from "node:net";
import { SocksClient, type SocksClientOptions } from "socks";
import { abortReasonOf, type DialTarget } from "./dial_target.ts";
import {
  abortFailure,
  errorMessage,
  type ProbeErrorCode,
  ProbeFailure,
  transportFailure,
} from "./probe_failure.ts";

/** Opens connected TCP sockets to probe targets. */
export interface Dialer {
  /** Route description for logs, e.g. `direct` or `SOCKS5 relay 127.0.0.1:1080`. */
  readonly route: string;
  /**
   * Resolves with a connected socket to `target.address:target.port`. Rejects with a
   * {@linkcode ProbeFailure}: a transport code when the connection fails, `TIMEOUT` or `CANCELLED`
   * when `target.signal` aborts first.
   */
  dial(target: DialTarget): Promise<Socket>;
}

/** Connects straight to the target address with the host's resolver. */
export class DirectDialer implements Dialer {
  readonly route = "direct";

  dial(target: DialTarget): Promise<Socket> {
    return connectTcp(target.address, target.port, target);
  }
}

/** Credentials of a SOCKS5 relay (RFC 1929). */
export interface Socks5Credentials {
  username: string;
  password: string;
}

/** Options of {@linkcode Socks5Dialer}. */
export interface Socks5DialerOptions {
  /** Relay address: an IP literal or a name the host resolves. */
  host: string;
  port: number;
  credentials?: Socks5Credentials;
}

/** SOCKS5 reply names the `socks` client puts in its rejection messages, mapped to probe codes. */
const REJECTION_CODES: Record<string, ProbeErrorCode> = {
  ConnectionRefused: "REFUSED",
  HostUnreachable: "UNREACHABLE",
  NetworkUnreachable: "UNREACHABLE",
  NotAllowed: "UNREACHABLE",
  TTLExpired: "TIMEOUT",
  Failure: "UNREACHABLE",
};

/** Plain words for the SOCKS5 reply names, for messages. */
const REJECTION_WORDS: Record<string, string> = {
  ConnectionRefused: "connection refused",
  HostUnreachable: "host unreachable",
  NetworkUnreachable: "network unreachable",
  NotAllowed: "not allowed by the relay's rules",
  TTLExpired: "timed out",
  Failure: "general failure",
  CommandNotSupported: "command not supported",
  AddressNotSupported: "address type not supported",
};

/**
 * Connects through a SOCKS5 relay with CONNECT, sending names unresolved so the relay resolves
 * them (as curl's `--socks5-hostname` does). In-cluster names such as `webhook.ns.svc` therefore
 * work when the relay runs in the cluster.
 */
export class Socks5Dialer implements Dialer {
  readonly route: string;
  readonly #options: Socks5DialerOptions;

  constructor(options: Socks5DialerOptions) {
    this.#options = options;
    this.route = `SOCKS5 relay ${formatHostPort(options.host, options.port)}`;
  }

  async dial(target: DialTarget): Promise<Socket> {
    const relay = formatHostPort(this.#options.host, this.#options.port);
    const relaySocket = await connectTcp(this.#options.host, this.#options.port, target, relay);

    const options: SocksClientOptions = {
      command: "connect",
      proxy: {
        host: this.#options.host,
        port: this.#options.port,
        type: 5,
        userId: this.#options.credentials?.username,
        password: this.#options.credentials?.password,
      },
      destination: { host: target.address, port: target.port },
      existing_socket: relaySocket,
      // The probe's own signal bounds the handshake, so the client's timer only backs it up.
      timeout: 24 * 60 * 60 * 1000,
    };

    const onAbort = () => relaySocket.destroy();
    target.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const { socket } = await SocksClient.createConnection(options);
      return socket;
    } catch (error) {
      relaySocket.destroy();
      if (target.signal.aborted) {
        throw abortFailure(abortReasonOf(target.signal), target.peer, false);
      }
      throw socksFailure(error, relay, target.peer);
    } finally {
      target.signal.removeEventListener("abort", onAbort);
    }
  }
}

/** Maps a `socks` client error to a probe failure that names the relay and the destination. */
function socksFailure(error: unknown, relay: string, peer: string): ProbeFailure {
  const message = errorMessage(error);
  const rejected = /rejected connection - (\w+)/.exec(message);
  if (rejected) {
    const name = rejected[1];
    const code = REJECTION_CODES[name] ?? "UNREACHABLE";
    const words = REJECTION_WORDS[name] ?? name;
    return new ProbeFailure(code, `SOCKS5 relay ${relay} could not connect to ${peer}: ${words}`);
  }
  if (/Authentication failed|no accepted authentication/i.test(message)) {
    return new ProbeFailure(
      "UNREACHABLE",
      `SOCKS5 relay ${relay} rejected the credentials; check --user and --password of the relay`,
    );
  }
  return new ProbeFailure(
    "UNREACHABLE",
    `SOCKS5 relay ${relay} failed while connecting to ${peer}: ${message}`,
  );
}

/**
 * Opens a TCP connection and resolves once it is up. `label` names the far end in messages when
 * it is not the probe's peer (a relay).
 */
export function connectTcp(
  host: string,
  port: number,
  target: Pick<DialTarget, "peer" | "signal">,
  label?: string,
): Promise<Socket> {
  const { signal } = target;
  const where = label ?? target.peer;
  if (signal.aborted) return Promise.reject(abortFailure(abortReasonOf(signal), where, false));

  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("connect", onConnect);
      socket.removeListener("error", onError);
    };
    const onAbort = () => {
      settle();
      socket.destroy();
      reject(abortFailure(abortReasonOf(signal), where, false));
    };
    const onConnect = () => {
      settle();
      resolve(socket);
    };
    const onError = (error: Error) => {
      settle();
      socket.destroy();
      const failure = transportFailure(error, where) ??
        new ProbeFailure("UNREACHABLE", `connection to ${where} failed: ${errorMessage(error)}`);
      reject(failure);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}

function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Dials the listed `address:port` pairs directly and everything else through `inner`. `--tunnel`
 * uses it for the API server, which trustwatch already reaches from where it runs and whose
 * kubeconfig address (often 127.0.0.1 for local clusters) may mean nothing inside the cluster.
 */
export class BypassDialer implements Dialer {
  readonly route: string;
  readonly #inner: Dialer;
  readonly #direct = new DirectDialer();
  readonly #bypassed: ReadonlySet<string>;

  constructor(inner: Dialer, bypassed: { address: string; port: number }[]) {
    this.#inner = inner;
    this.#bypassed = new Set(bypassed.map((entry) => bypassKey(entry.address, entry.port)));
    this.route = inner.route;
  }

  dial(target: DialTarget): Promise<Socket> {
    const bypass = this.#bypassed.has(bypassKey(target.address, target.port));
    return (bypass ? this.#direct : this.#inner).dial(target);
  }
}

function bypassKey(address: string, port: number): string {
  return `${address.replace(/^\[|\]$/g, "").toLowerCase()}:${port}`;
}
