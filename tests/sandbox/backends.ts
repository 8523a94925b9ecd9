/**
 * Loopback TLS servers that stand in for the in-cluster services and external endpoints a
 * sandbox manifest declares as `sandbox.trustwatch.dev/v1` TLSBackend objects.
 *
 * @module
 */
import { connect as connectTcp, createServer as createNetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type Server, type TLSSocket } from "node:tls";
import type { KubeObject } from "./resources.ts";

/** apiVersion of the sandbox-only TLSBackend kind. */
export const TLS_BACKEND_API_VERSION = "sandbox.trustwatch.dev/v1";
/** Kind of the sandbox-only object that declares a TLS server. */
export const TLS_BACKEND_KIND = "TLSBackend";

const LOOPBACK = "127.0.0.1";
/** Idle connections are closed after this long, so a probe that never sends cannot pin a socket. */
const IDLE_TIMEOUT_MS = 10_000;
const HTTP_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n" +
  "Connection: close\r\n\r\nok\n";

/** The spec of a TLSBackend object. */
export interface TLSBackendSpec {
  /** Names the server stands for, e.g. `webhook.payments.svc`. */
  hosts: string[];
  /** Loopback port to listen on, or 0 for a free one. */
  port: number;
  /** Served certificates as PEM, leaf first. */
  certificateChain: string;
  /** Private key of the leaf as PEM. */
  privateKey: string;
  /**
   * Delay before the server reads a new connection, in milliseconds, so a probe is still in
   * flight when a test acts. @default {0}
   */
  handshakeDelayMs?: number;
}

/** A running TLS backend. */
export interface RunningBackend {
  name: string;
  port: number;
  hosts: string[];
  close(): Promise<void>;
}

/** Returns whether an object is a TLSBackend declaration rather than an API object. */
export function isTlsBackend(object: KubeObject): boolean {
  return object.apiVersion === TLS_BACKEND_API_VERSION && object.kind === TLS_BACKEND_KIND;
}

/**
 * First and last port `freePort` picks from: below Linux's default ephemeral range (32768–60999),
 * where the kernel assigns ports for outgoing connections and `listen(0)` in other processes.
 */
const FREE_PORT_RANGE = { first: 20_000, last: 32_767 } as const;
/** Random ports tried before falling back to a kernel-assigned one. */
const FREE_PORT_ATTEMPTS = 64;

/** Ports this process has handed out, so two fixtures never get the same one. */
const issuedPorts = new Set<number>();

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago. Fixtures need the port before the
 * server binds it, so another process could still take it; picking at random outside the
 * ephemeral range keeps that unlikely even with tests running in parallel.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt++) {
    const span = FREE_PORT_RANGE.last - FREE_PORT_RANGE.first + 1;
    const port = FREE_PORT_RANGE.first + Math.floor(Math.random() * span);
    if (issuedPorts.has(port)) continue;
    if (await canBind(port)) {
      issuedPorts.add(port);
      return port;
    }
  }
  const port = await bindAndRelease(0);
  issuedPorts.add(port);
  return port;
}

async function canBind(port: number): Promise<boolean> {
  try {
    await bindAndRelease(port);
    return true;
  } catch {
    return false;
  }
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(port, LOOPBACK, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Starts the TLS server a TLSBackend object declares, on 127.0.0.1. It completes handshakes with
 * the declared chain and replies `HTTP/1.1 200 OK` to any request. Throws when the spec is
 * incomplete or the port cannot be bound.
 */
export async function startTlsBackend(object: KubeObject): Promise<RunningBackend> {
  const name = object.metadata.name;
  const spec = validateSpec(object.spec, name);
  const sockets = new Set<TLSSocket>();

  const server = createTlsServer(
    { cert: spec.certificateChain, key: spec.privateKey },
    (socket) => serveConnection(socket, sockets),
  );
  // A failed handshake (a client that rejects the certificate) is normal for probes.
  server.on("tlsClientError", () => {});
  const delayMs = spec.handshakeDelayMs ?? 0;
  if (delayMs > 0) return await startDelayedBackend(name, spec, server, sockets, delayMs);
  const port = await listen(server, spec.port);

  return {
    name,
    port,
    hosts: [...spec.hosts],
    close: () => closeServer(server, sockets),
  };
}

/**
 * Puts a TCP front on the declared port that holds each connection for `delayMs` before piping
 * it to the TLS server on an internal loopback port.
 */
async function startDelayedBackend(
  name: string,
  spec: TLSBackendSpec,
  tlsServer: Server,
  tlsSockets: Set<TLSSocket>,
  delayMs: number,
): Promise<RunningBackend> {
  const innerPort = await listen(tlsServer, 0);
  const fronts = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const front = createNetServer((socket) => {
    fronts.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => fronts.delete(socket));
    socket.pause();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (socket.destroyed) return;
      const inner = connectTcp({ host: LOOPBACK, port: innerPort });
      inner.on("error", () => socket.destroy());
      inner.on("close", () => socket.destroy());
      socket.on("close", () => inner.destroy());
      socket.pipe(inner);
      inner.pipe(socket);
      socket.resume();
    }, delayMs);
    timers.add(timer);
  });
  const port = await new Promise<number>((resolve, reject) => {
    front.once("error", reject);
    front.listen(spec.port, LOOPBACK, () => {
      front.off("error", reject);
      const address = front.address();
      resolve(typeof address === "object" && address !== null ? address.port : spec.port);
    });
  });

  return {
    name,
    port,
    hosts: [...spec.hosts],
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of fronts) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await closeServer(tlsServer, tlsSockets);
    },
  };
}

function serveConnection(socket: TLSSocket, sockets: Set<TLSSocket>): void {
  sockets.add(socket);
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("close", () => sockets.delete(socket));
  socket.once("data", () => socket.end(HTTP_RESPONSE));
}

function validateSpec(spec: unknown, name: string): TLSBackendSpec {
  const candidate = (spec ?? {}) as Partial<TLSBackendSpec>;
  const where = `TLSBackend ${name}`;
  if (!Array.isArray(candidate.hosts) || candidate.hosts.some((host) => typeof host !== "string")) {
    throw new Error(`${where}: spec.hosts must be a list of host names`);
  }
  if (typeof candidate.port !== "number" || !Number.isInteger(candidate.port)) {
    throw new Error(`${where}: spec.port must be an integer (0 picks a free port)`);
  }
  if (typeof candidate.certificateChain !== "string" || !candidate.certificateChain.trim()) {
    throw new Error(`${where}: spec.certificateChain must be PEM certificates, leaf first`);
  }
  if (typeof candidate.privateKey !== "string" || !candidate.privateKey.trim()) {
    throw new Error(`${where}: spec.privateKey must be a PEM private key`);
  }
  const delay = candidate.handshakeDelayMs;
  if (delay !== undefined && (typeof delay !== "number" || !Number.isInteger(delay) || delay < 0)) {
    throw new Error(
      `${where}: spec.handshakeDelayMs must be an integer of 0 or more (milliseconds)`,
    );
  }
  return candidate as TLSBackendSpec;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LOOPBACK, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: Server, sockets: Set<TLSSocket>): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}
