import assert from "node:assert/strict";
import * as net from "node:net";
import { SocksClient, type SocksClientOptions } from "socks";
import { ResolveMap } from "../../../core/probe/resolve.ts";
import { type Socks5Server, startSocks5Server } from "../../../core/socks5/server.ts";
import { closedPort, ipv6LoopbackAvailable } from "../probe/_servers.ts";
import { issueChain } from "../../support/pki.ts";

const CURL_PATH = "/usr/bin/curl";
const CURL_AVAILABLE = await Deno.stat(CURL_PATH).then(() => true, () => false);
const IPV6_AVAILABLE = ipv6LoopbackAvailable();

if (!CURL_AVAILABLE) console.log(`skipping curl tests: ${CURL_PATH} not found`);
if (!IPV6_AVAILABLE) console.log("skipping IPv6 tests: cannot listen on [::1] on this machine");

/** An HTTP server (HTTPS when `tls` is given) on loopback that responds to every request with `body`. */
function startHttpServer(
  body: string,
  hostname = "127.0.0.1",
  tls?: { cert: string; key: string },
): { port: number; close(): Promise<void> } {
  const server = Deno.serve(
    { hostname, port: 0, onListen: () => {}, ...tls },
    () => new Response(body),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

async function withRelay(
  options: Parameters<typeof startSocks5Server>[0],
  run: (relay: Socks5Server) => Promise<void>,
): Promise<void> {
  const relay = await startSocks5Server({ hostname: "127.0.0.1", port: 0, ...options });
  try {
    await run(relay);
  } finally {
    await relay.close();
  }
}

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(CURL_PATH, {
    args: ["--silent", "--show-error", "--max-time", "20", ...args],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function socksOptions(
  relay: Socks5Server,
  destination: { host: string; port: number },
  credentials?: { userId: string; password: string },
): SocksClientOptions {
  return {
    command: "connect",
    proxy: { host: "127.0.0.1", port: relay.port, type: 5, ...credentials },
    destination,
    timeout: 20_000,
  };
}

/** Sends an HTTP request over a connected socket and returns the whole response. */
function httpGet(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => chunks.push(chunk));
    socket.on("end", () => resolve(chunks.join("")));
    socket.on("error", reject);
    socket.write("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  });
}

/** Writes raw bytes to the relay and returns everything it sends back before closing. */
function exchangeRaw(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Uint8Array[] = [];
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", (error: Error & { code?: string }) => {
      if (error.code === "ECONNRESET") return;
      reject(error);
    });
    socket.on("close", () => {
      const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      const joined = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        joined.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(joined);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail("expected the SOCKS5 connection to be rejected");
}

Deno.test({
  name: "socks5 relays curl with --socks5-hostname",
  ignore: !CURL_AVAILABLE,
  fn: async () => {
    const backend = startHttpServer("hello through socks\n");
    const resolve = new ResolveMap([
      { host: "web.shop.svc", port: backend.port, address: "127.0.0.1" },
    ]);
    try {
      await withRelay({ resolve, resolveOnly: true }, async (relay) => {
        const run = await curl([
          "--socks5-hostname",
          `127.0.0.1:${relay.port}`,
          `http://web.shop.svc:${backend.port}/`,
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, "hello through socks\n");
      });
    } finally {
      await backend.close();
    }
  },
});

Deno.test({
  name: "socks5 relays curl TLS with credentials",
  ignore: !CURL_AVAILABLE,
  fn: async () => {
    const pki = await issueChain({ dnsNames: ["api.shop.svc"] });
    const backend = startHttpServer("hello over TLS\n", "127.0.0.1", {
      cert: pki.leaf.certPem + pki.intermediate.certPem,
      key: pki.leaf.keyPem,
    });
    const resolve = new ResolveMap([
      { host: "api.shop.svc", port: backend.port, address: "127.0.0.1" },
    ]);
    const credentials = { username: "probe", password: "s3cret:with:colons" };
    const caPath = await Deno.makeTempFile({ suffix: ".pem" });
    await Deno.writeTextFile(caPath, pki.root.certPem);
    try {
      await withRelay({ resolve, resolveOnly: true, credentials }, async (relay) => {
        const url = `https://api.shop.svc:${backend.port}/`;
        const accepted = await curl([
          "--socks5-hostname",
          `127.0.0.1:${relay.port}`,
          "--proxy-user",
          `${credentials.username}:${credentials.password}`,
          "--cacert",
          `${caPath}`,
          url,
        ]);
        assert.equal(accepted.code, 0, accepted.stderr);
        assert.equal(accepted.stdout, "hello over TLS\n");

        const refused = await curl([
          "--socks5-hostname",
          `127.0.0.1:${relay.port}`,
          "--proxy-user",
          "probe:wrong",
          "--insecure",
          url,
        ]);
        assert.equal(refused.code, 97, `curl exit code for a rejected login: ${refused.stderr}`);
      });
    } finally {
      await backend.close();
      await Deno.remove(caPath);
    }
  },
});

Deno.test("socks5 connects the socks client to IPv4 and names", async () => {
  const backend = startHttpServer("v4");
  const resolve = new ResolveMap([{
    host: "named.test",
    port: backend.port,
    address: "127.0.0.1",
  }]);
  try {
    await withRelay({ resolve, resolveOnly: true }, async (relay) => {
      const byAddress = await SocksClient.createConnection(
        socksOptions(relay, { host: "127.0.0.1", port: backend.port }),
      );
      assert.match(await httpGet(byAddress.socket), /\r\n\r\nv4$/);

      const byName = await SocksClient.createConnection(
        socksOptions(relay, { host: "named.test", port: backend.port }),
      );
      assert.match(await httpGet(byName.socket), /\r\n\r\nv4$/);
    });
  } finally {
    await backend.close();
  }
});

Deno.test({
  name: "socks5 connects the socks client to IPv6",
  ignore: !IPV6_AVAILABLE,
  fn: async () => {
    const backend = startHttpServer("v6", "::1");
    try {
      await withRelay({ resolveOnly: true }, async (relay) => {
        const connection = await SocksClient.createConnection(
          socksOptions(relay, { host: "::1", port: backend.port }),
        );
        assert.match(await httpGet(connection.socket), /\r\n\r\nv6$/);
      });
    } finally {
      await backend.close();
    }
  },
});

Deno.test("socks5 requires credentials when configured", async () => {
  const backend = startHttpServer("secret");
  const credentials = { username: "probe", password: "pa55" };
  try {
    await withRelay({ credentials, resolveOnly: true }, async (relay) => {
      const destination = { host: "127.0.0.1", port: backend.port };
      const accepted = await SocksClient.createConnection(
        socksOptions(relay, destination, { userId: "probe", password: "pa55" }),
      );
      assert.match(await httpGet(accepted.socket), /secret$/);

      const wrongPassword = await rejection(SocksClient.createConnection(
        socksOptions(relay, destination, { userId: "probe", password: "nope" }),
      ));
      assert.match(wrongPassword, /Authentication failed/);

      const noCredentials = await rejection(
        SocksClient.createConnection(socksOptions(relay, destination)),
      );
      assert.match(noCredentials, /no accepted authentication type/);
    });
  } finally {
    await backend.close();
  }
});

Deno.test("socks5 replies connection refused for a closed port", async () => {
  const port = await closedPort();
  await withRelay({ resolveOnly: true }, async (relay) => {
    const message = await rejection(
      SocksClient.createConnection(socksOptions(relay, { host: "127.0.0.1", port })),
    );
    assert.match(message, /rejected connection - ConnectionRefused/);
  });
});

Deno.test("socks5 replies refused for an unused loopback address", async () => {
  const port = await closedPort();
  await withRelay({ resolveOnly: true }, async (relay) => {
    const message = await rejection(
      SocksClient.createConnection(socksOptions(relay, { host: "127.0.0.77", port })),
    );
    assert.match(message, /rejected connection - ConnectionRefused/);
  });
});

Deno.test("socks5 replies host unreachable for an unresolvable name", async () => {
  await withRelay({ resolveOnly: true }, async (relay) => {
    const message = await rejection(
      SocksClient.createConnection(socksOptions(relay, { host: "nowhere.test", port: 443 })),
    );
    assert.match(message, /rejected connection - HostUnreachable/);
  });
});

Deno.test("socks5 with resolve-only rejects non-loopback addresses", async () => {
  await withRelay({ resolveOnly: true }, async (relay) => {
    // 192.0.2.1 is TEST-NET-1; the relay rejects it before any connect attempt.
    const message = await rejection(
      SocksClient.createConnection(socksOptions(relay, { host: "192.0.2.1", port: 443 })),
    );
    assert.match(message, /rejected connection - NotAllowed/);
  });
});

Deno.test("socks5 closes a client that sends garbage and keeps serving", async () => {
  const backend = startHttpServer("still up");
  try {
    await withRelay({ resolveOnly: true, handshakeTimeoutMs: 1_000 }, async (relay) => {
      const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.deepEqual(await exchangeRaw(relay.port, http), new Uint8Array(0));

      const noMethods = Uint8Array.of(0x05, 0x00);
      assert.deepEqual(await exchangeRaw(relay.port, noMethods), new Uint8Array(0));

      const bind = Uint8Array.of(0x05, 0x01, 0x00, 0x05, 0x02, 0x00, 0x01, 127, 0, 0, 1, 0, 80);
      const bindReply = await exchangeRaw(relay.port, bind);
      assert.deepEqual([...bindReply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x07]);

      const badType = Uint8Array.of(0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x09, 1, 2, 3, 4);
      const badTypeReply = await exchangeRaw(relay.port, badType);
      assert.deepEqual([...badTypeReply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x08]);

      const truncated = Uint8Array.of(0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 40, 0x61);
      const closedEarly = exchangeRaw(relay.port, truncated);
      assert.deepEqual(
        (await closedEarly).subarray(0, 2),
        Uint8Array.of(0x05, 0x00),
        "the relay answers the greeting and waits for the rest of the request",
      );

      const connection = await SocksClient.createConnection(
        socksOptions(relay, { host: "127.0.0.1", port: backend.port }),
      );
      assert.match(await httpGet(connection.socket), /still up$/);
    });
  } finally {
    await backend.close();
  }
});

Deno.test("socks5 closes clients that never finish the handshake", async () => {
  await withRelay({ resolveOnly: true, handshakeTimeoutMs: 200 }, async (relay) => {
    const reply = await exchangeRaw(relay.port, Uint8Array.of(0x05));
    assert.deepEqual(reply, new Uint8Array(0));
    assert.equal(relay.activeConnections, 0);
  });
});

Deno.test("socks5 closes connections beyond the limit", async () => {
  const backend = startHttpServer("limited");
  try {
    await withRelay({ resolveOnly: true, maxConnections: 1 }, async (relay) => {
      const first = await SocksClient.createConnection(
        socksOptions(relay, { host: "127.0.0.1", port: backend.port }),
      );
      const message = await rejection(
        SocksClient.createConnection(
          socksOptions(relay, { host: "127.0.0.1", port: backend.port }),
        ),
      );
      assert.match(message, /Socket closed|ECONNRESET/);
      assert.match(await httpGet(first.socket), /limited$/);
    });
  } finally {
    await backend.close();
  }
});

Deno.test("socks5 rejects invalid limits", async () => {
  await assert.rejects(
    startSocks5Server({ hostname: "127.0.0.1", port: 0, maxConnections: 0 }),
    /invalid SOCKS5 maxConnections 0/,
  );
});
