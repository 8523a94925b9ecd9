/**
 * Loopback servers for prober tests: `node:tls` servers that record SNI and connections,
 * `openssl s_server` for protocols and keys that `node:tls` under Deno does not serve, plain TCP
 * servers, and silent servers that accept and never respond.
 *
 * @module
 */
import { existsSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import type { IssuedCertificate } from "../../support/pki.ts";

/** Path of the OpenSSL binary the TLS 1.0 and RSA-1024 servers run. */
export const OPENSSL_PATH = "/usr/bin/openssl";

/** Whether `openssl s_server` can be started. */
export const OPENSSL_AVAILABLE = existsSync(OPENSSL_PATH);

/** Time allowed for a helper server to start accepting, in milliseconds. */
const SERVER_START_TIMEOUT_MS = 10_000;

/** A running test server. */
export interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** A `node:tls` server that records what clients sent. */
export interface RecordingTlsServer extends TestServer {
  /** SNI of each handshake the server completed, `undefined` when none was sent. */
  serverNames: (string | undefined)[];
  /**
   * Resolves once the server completed `count` handshakes. The client may finish first, so wait
   * for this before reading `serverNames`.
   */
  waitForHandshakes(count: number): Promise<void>;
  /** TCP connections accepted so far. */
  connections: number;
}

/** Starts a `node:tls` server on `hostname` that sends `chain` (leaf first) with `leaf`'s key. */
export async function startTlsServer(
  leaf: IssuedCertificate,
  chain: IssuedCertificate[],
  options: { hostname?: string; maxVersion?: tls.SecureVersion } = {},
): Promise<RecordingTlsServer> {
  const sockets = new Set<net.Socket>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = tls.createServer({
    key: leaf.keyPem,
    cert: chain.map((certificate) => certificate.certPem).join(""),
    maxVersion: options.maxVersion,
  }, (socket) => {
    // Node's TLSSocket sets `servername` on server sockets, but @types/node leaves it out.
    const serverName = (socket as tls.TLSSocket & { servername?: unknown }).servername;
    recording.serverNames.push(typeof serverName === "string" ? serverName : undefined);
    for (const waiter of waiters.filter((entry) => entry.count <= recording.serverNames.length)) {
      waiter.resolve();
    }
    socket.on("error", () => {});
    socket.resume();
  });
  server.on("connection", (socket: net.Socket) => {
    recording.connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});

  const port = await listen(server, options.hostname ?? "127.0.0.1");
  const recording: RecordingTlsServer = {
    port,
    serverNames: [],
    connections: 0,
    waitForHandshakes: (count) => {
      if (recording.serverNames.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => closeServer(server, sockets),
  };
  return recording;
}

/** A TCP server that accepts connections and leaves them open without responding. */
export interface SilentServer extends TestServer {
  /** Connections accepted so far. */
  connections: number;
  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number): Promise<void>;
}

/** Starts a TCP server that accepts and never responds. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = net.createServer((socket) => {
    silent.connections += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    for (const waiter of waiters.filter((entry) => entry.count <= silent.connections)) {
      waiter.resolve();
    }
  });

  const port = await listen(server, "127.0.0.1");
  const silent: SilentServer = {
    port,
    connections: 0,
    waitForConnections: (count) => {
      if (silent.connections >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => closeServer(server, sockets),
  };
  return silent;
}

/** A TCP server that counts how many connections are open at once. */
export interface BatchingServer extends TestServer {
  /** Connections accepted so far. */
  connections: number;
  /** Largest number of connections open at the same time. */
  maxOpen: number;
}

/**
 * Starts a TCP server that keeps connections open without responding until `batchSize` are open or
 * `maxHoldMs` passed since the oldest arrived, then resets them all. The server closes every
 * connection itself and counts it closed first, so a client can only dial again after the count
 * went down, and `maxOpen` is exact.
 */
export async function startBatchingServer(
  batchSize: number,
  maxHoldMs: number,
): Promise<BatchingServer> {
  const held = new Set<net.Socket>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const releaseAll = () => {
    clearTimeout(timer);
    timer = undefined;
    const sockets = [...held];
    held.clear();
    for (const socket of sockets) socket.destroy();
  };

  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    batching.connections += 1;
    held.add(socket);
    batching.maxOpen = Math.max(batching.maxOpen, held.size);

    if (held.size >= batchSize) releaseAll();
    else if (timer === undefined) timer = setTimeout(releaseAll, maxHoldMs);
  });

  const port = await listen(server, "127.0.0.1");
  const batching: BatchingServer = {
    port,
    connections: 0,
    maxOpen: 0,
    close: () => {
      releaseAll();
      return closeServer(server, new Set());
    },
  };
  return batching;
}

/** Starts a TCP server that writes `greeting` to every connection and closes it. */
export async function startPlainServer(greeting: string): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.end(greeting);
  });
  const port = await listen(server, "127.0.0.1");
  return { port, close: () => closeServer(server, sockets) };
}

/** Returns a loopback port that was just bound and released, so nothing listens on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server, "127.0.0.1");
  await closeServer(server, new Set());
  return port;
}

/** Checks whether this machine can listen on the IPv6 loopback address. */
export function ipv6LoopbackAvailable(): boolean {
  try {
    const listener = Deno.listen({ hostname: "::1", port: 0 });
    listener.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `openssl s_server` on a free loopback port with the leaf, its key and the extra chain
 * certificates written to a temporary directory. `protocolArgs` selects protocols (`-tls1`).
 * Security level 0 lets OpenSSL 3 serve TLS 1.0 and RSA-1024 keys.
 */
export async function startOpensslServer(
  leaf: IssuedCertificate,
  intermediates: IssuedCertificate[],
  protocolArgs: string[],
): Promise<TestServer> {
  const directory = await Deno.makeTempDir({ prefix: "trustwatch-probe-" });
  const certPath = `${directory}/leaf.pem`;
  const keyPath = `${directory}/leaf.key`;
  const chainPath = `${directory}/chain.pem`;
  await Deno.writeTextFile(certPath, leaf.certPem);
  await Deno.writeTextFile(keyPath, leaf.keyPem);
  await Deno.writeTextFile(chainPath, intermediates.map((entry) => entry.certPem).join(""));

  const port = await closedPort();
  const args = [
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    certPath,
    "-key",
    keyPath,
    "-cipher",
    "DEFAULT:@SECLEVEL=0",
    "-quiet",
    ...(intermediates.length > 0 ? ["-cert_chain", chainPath] : []),
    ...protocolArgs,
  ];
  const child = new Deno.Command(OPENSSL_PATH, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();

  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // The process has already exited.
    }
    await child.status;
    await Deno.remove(directory, { recursive: true });
  };

  try {
    await waitUntilAccepting(port);
  } catch (error) {
    await close();
    throw error;
  }
  return { port, close };
}

async function waitUntilAccepting(port: number): Promise<void> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `openssl s_server did not accept on 127.0.0.1:${port} within ${SERVER_START_TIMEOUT_MS}ms`,
  );
}

function listen(server: net.Server, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, hostname, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
