/**
 * The SOCKS5 relay that `trustwatch socks5` runs: RFC 1928 CONNECT to IPv4, IPv6 and domain-name
 * destinations, without authentication or with RFC 1929 username/password. Names are resolved
 * with the host's resolver or a `--resolve` table. Connect and handshake timeouts and a limit on
 * concurrent connections bound what one client can hold.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { type AddressInfo, connect, createServer, isIP, type Server, type Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { ResolveMap } from "../probe/resolve.ts";
import { errorMessage } from "../probe/probe_failure.ts";
import { SocketByteReader } from "./_byte_reader.ts";
import {
  AUTH_VERSION,
  AuthMethod,
  type Destination,
  encodeReply,
  readConnectRequest,
  readCredentials,
  readGreeting,
  Reply,
  type ReplyCode,
  Socks5ProtocolError,
} from "./protocol.ts";

/** Default port of the relay: the registered SOCKS port. */
export const DEFAULT_SOCKS5_PORT = 1080;
/** Time allowed to connect to a destination, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Time a client has to finish the SOCKS5 handshake, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Client connections served at once; further ones are closed on arrival. */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** Logger for relay events, matching `@logtape/logtape`'s `Logger` methods. */
export interface Socks5Logger {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
}

/** Options of {@linkcode startSocks5Server}. */
export interface Socks5ServerOptions {
  /** Address to listen on; `undefined` listens on every interface. */
  hostname?: string;
  /** Port to listen on; 0 picks a free one. @default {DEFAULT_SOCKS5_PORT} */
  port?: number;
  /** Require RFC 1929 username/password authentication with these credentials. */
  credentials?: { username: string; password: string };
  /** Addresses to use for `host:port` destinations instead of looking the name up. */
  resolve?: ResolveMap;
  /**
   * Connect only to destinations `resolve` maps and to loopback literals. Other names get
   * "host unreachable" without any lookup, other addresses "not allowed".
   * @default {false}
   */
  resolveOnly?: boolean;
  /** @default {DEFAULT_CONNECT_TIMEOUT_MS} */
  connectTimeoutMs?: number;
  /** @default {DEFAULT_HANDSHAKE_TIMEOUT_MS} */
  handshakeTimeoutMs?: number;
  /** @default {DEFAULT_MAX_CONNECTIONS} */
  maxConnections?: number;
  logger?: Socks5Logger;
}

/** A listening relay. */
export interface Socks5Server {
  /** Bound address, e.g. `127.0.0.1`, `::`. */
  hostname: string;
  port: number;
  /** Client connections open now. */
  readonly activeConnections: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** A failed connect attempt with the reply it maps to. */
class ConnectFailure extends Error {
  constructor(readonly reply: ReplyCode, message: string) {
    super(message);
    this.name = "ConnectFailure";
  }
}

const CONNECT_ERROR_REPLIES: Record<string, ReplyCode> = {
  ECONNREFUSED: Reply.CONNECTION_REFUSED,
  EHOSTUNREACH: Reply.HOST_UNREACHABLE,
  EHOSTDOWN: Reply.HOST_UNREACHABLE,
  ENETUNREACH: Reply.NETWORK_UNREACHABLE,
  ENETDOWN: Reply.NETWORK_UNREACHABLE,
  EADDRNOTAVAIL: Reply.NETWORK_UNREACHABLE,
  ETIMEDOUT: Reply.HOST_UNREACHABLE,
  ENOTFOUND: Reply.HOST_UNREACHABLE,
  EAI_AGAIN: Reply.HOST_UNREACHABLE,
  EAI_NONAME: Reply.HOST_UNREACHABLE,
  EAI_NODATA: Reply.HOST_UNREACHABLE,
  EAI_FAIL: Reply.HOST_UNREACHABLE,
};

/**
 * Starts a relay and resolves once it listens. Throws when the address cannot be bound or an
 * option is out of range.
 *
 * @example
 * ```ts
 * const relay = await startSocks5Server({ hostname: "127.0.0.1", port: 0 });
 * console.log(`curl --socks5-hostname 127.0.0.1:${relay.port} https://example.com`);
 * await relay.close();
 * ```
 */
export async function startSocks5Server(options: Socks5ServerOptions = {}): Promise<Socks5Server> {
  const settings = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`invalid SOCKS5 ${name} ${value}: expected an integer of 1 or more`);
    }
  }

  const clients = new Set<Socket>();
  let rejectedForLimit = 0;
  const server = createServer((client) => {
    if (clients.size >= settings.maxConnections) {
      rejectedForLimit += 1;
      // Counted, so a flood produces one line per power of two instead of one per connection.
      if ((rejectedForLimit & (rejectedForLimit - 1)) === 0) {
        options.logger?.warn(
          "connection limit of {limit} reached; closed {count} connections so far",
          { limit: settings.maxConnections, count: rejectedForLimit },
        );
      }
      client.destroy();
      return;
    }
    clients.add(client);
    client.on("close", () => clients.delete(client));
    serveClient(client, options, settings).catch((error) => {
      options.logger?.warn("SOCKS5 connection failed unexpectedly: {error}", {
        error: errorMessage(error),
      });
      client.destroy();
    });
  });

  const bound = await listen(server, options.hostname, options.port ?? DEFAULT_SOCKS5_PORT);
  options.logger?.info("SOCKS5 relay listening on {address}", {
    address: formatAddress(bound.address, bound.port),
    authentication: options.credentials ? "username/password" : "none",
  });

  let closing: Promise<void> | undefined;
  return {
    hostname: bound.address,
    port: bound.port,
    get activeConnections() {
      return clients.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const client of clients) client.destroy();
        server.close(() => resolve());
      }).then(() => options.logger?.info("SOCKS5 relay stopped"));
      return closing;
    },
  };
}

interface Settings {
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
}

async function serveClient(
  client: Socket,
  options: Socks5ServerOptions,
  settings: Settings,
): Promise<void> {
  const logger = options.logger;
  const from = formatAddress(client.remoteAddress ?? "?", client.remotePort ?? 0);
  const started = performance.now();
  client.on("error", () => client.destroy());
  client.setNoDelay(true);
  logger?.debug("connection from {client}", { client: from });

  const reader = new SocketByteReader(client);
  const deadline = setTimeout(() => {
    logger?.debug("closed {client}: no SOCKS5 handshake within {ms} ms", {
      client: from,
      ms: settings.handshakeTimeoutMs,
    });
    client.destroy();
  }, settings.handshakeTimeoutMs);

  let destination: Destination;
  try {
    if (!await negotiate(client, reader, options.credentials)) {
      clearTimeout(deadline);
      logger?.debug("closed {client}: authentication failed", { client: from });
      return;
    }
    destination = await readConnectRequest(reader);
  } catch (error) {
    clearTimeout(deadline);
    if (error instanceof Socks5ProtocolError && error.reply !== undefined) {
      client.end(encodeReply(error.reply));
    } else {
      client.destroy();
    }
    logger?.debug("closed {client}: {error}", { client: from, error: errorMessage(error) });
    return;
  }

  const target = formatAddress(destination.host, destination.port);
  let upstream: Socket;
  try {
    upstream = await connectDestination(destination, options, settings.connectTimeoutMs);
  } catch (error) {
    clearTimeout(deadline);
    const reply = error instanceof ConnectFailure ? error.reply : Reply.GENERAL_FAILURE;
    logger?.debug("CONNECT {client} -> {target} failed: {error}", {
      client: from,
      target,
      error: errorMessage(error),
      reply,
    });
    if (!client.destroyed) client.end(encodeReply(reply));
    return;
  }
  clearTimeout(deadline);

  if (client.destroyed) {
    upstream.destroy();
    return;
  }
  client.write(encodeReply(Reply.SUCCEEDED, {
    address: upstream.localAddress ?? "0.0.0.0",
    port: upstream.localPort ?? 0,
  }));
  logger?.debug("CONNECT {client} -> {target} via {address}", {
    client: from,
    target,
    address: formatAddress(upstream.remoteAddress ?? "?", upstream.remotePort ?? 0),
  });

  relay(client, upstream, reader.release());
  client.once("close", () => {
    logger?.debug(
      "connection {client} -> {target} closed after {ms} ms: {sent} bytes sent, {received} received",
      {
        client: from,
        target,
        ms: Math.round(performance.now() - started),
        sent: upstream.bytesWritten,
        received: upstream.bytesRead,
      },
    );
  });
}

/** Runs method negotiation and authentication. Returns false when the client was turned away. */
async function negotiate(
  client: Socket,
  reader: SocketByteReader,
  credentials: Socks5ServerOptions["credentials"],
): Promise<boolean> {
  const methods = await readGreeting(reader);
  const required = credentials ? AuthMethod.USERNAME_PASSWORD : AuthMethod.NONE;
  if (!methods.includes(required)) {
    client.end(Uint8Array.of(0x05, AuthMethod.NO_ACCEPTABLE));
    return false;
  }
  client.write(Uint8Array.of(0x05, required));
  if (!credentials) return true;

  const offered = await readCredentials(reader);
  const accepted = sameText(offered.username, credentials.username) &&
    sameText(offered.password, credentials.password);
  if (!accepted) {
    client.end(Uint8Array.of(AUTH_VERSION, 0x01));
    return false;
  }
  client.write(Uint8Array.of(AUTH_VERSION, 0x00));
  return true;
}

function sameText(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function connectDestination(
  destination: Destination,
  options: Socks5ServerOptions,
  timeoutMs: number,
): Promise<Socket> {
  const address = await resolveDestination(destination, options);
  return await new Promise<Socket>((resolve, reject) => {
    const upstream = connect({ host: address, port: destination.port });
    // NOTE: no test reaches this timeout, because loopback connects never stall; they complete
    // or are refused at once.
    const timer = setTimeout(() => {
      upstream.destroy();
      reject(new ConnectFailure(Reply.HOST_UNREACHABLE, `no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    upstream.once("connect", () => {
      clearTimeout(timer);
      upstream.removeAllListeners("error");
      resolve(upstream);
    });
    upstream.once("error", (error: Error & { code?: string }) => {
      clearTimeout(timer);
      upstream.destroy();
      const reply = CONNECT_ERROR_REPLIES[error.code ?? ""] ?? Reply.GENERAL_FAILURE;
      reject(new ConnectFailure(reply, errorMessage(error)));
    });
  });
}

/** Returns the IP address to connect to: a literal, a `resolve` entry, or a lookup result. */
async function resolveDestination(
  destination: Destination,
  options: Socks5ServerOptions,
): Promise<string> {
  const override = options.resolve?.addressFor(destination.host, destination.port);
  if (override !== undefined) return override;

  if (isIP(destination.host) !== 0) {
    if (options.resolveOnly && !isLoopback(destination.host)) {
      throw new ConnectFailure(
        Reply.NOT_ALLOWED,
        `${destination.host} is not a loopback address and --resolve-only is set`,
      );
    }
    return destination.host;
  }

  if (options.resolveOnly) {
    throw new ConnectFailure(
      Reply.HOST_UNREACHABLE,
      `${destination.host}:${destination.port} has no --resolve entry and --resolve-only is set`,
    );
  }
  try {
    return (await lookup(destination.host)).address;
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    throw new ConnectFailure(
      CONNECT_ERROR_REPLIES[code] ?? Reply.HOST_UNREACHABLE,
      `lookup of ${destination.host} failed: ${errorMessage(error)}`,
    );
  }
}

function isLoopback(address: string): boolean {
  const unmapped = address.replace(/^::ffff:/i, "");
  if (isIP(unmapped) === 4) return unmapped.startsWith("127.");
  return /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(address);
}

/** Pipes bytes both ways, with half-close, until either side closes. */
function relay(client: Socket, upstream: Socket, early: Uint8Array): void {
  if (early.length > 0) upstream.write(early);
  upstream.on("error", () => upstream.destroy());
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.once("close", closeBoth);
  upstream.once("close", closeBoth);
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
}

function listen(
  server: Server,
  hostname: string | undefined,
  port: number,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port }, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function formatAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
