import assert from "node:assert/strict";
import * as net from "node:net";
import { Socks5Dialer } from "../../../core/probe/dialer.ts";
import { Prober } from "../../../core/probe/prober.ts";
import { ResolveMap } from "../../../core/probe/resolve.ts";
import { startSocks5Server } from "../../../core/socks5/server.ts";
import { issueChain } from "../../support/pki.ts";
import {
  closedPort,
  OPENSSL_AVAILABLE,
  startOpensslServer,
  startSilentServer,
  startTlsServer,
} from "../probe/_servers.ts";

const MICROSOCKS_PATH = "/usr/bin/microsocks";
const MICROSOCKS_AVAILABLE = await Deno.stat(MICROSOCKS_PATH).then(() => true, () => false);
/** Time allowed for microsocks to start accepting connections, in milliseconds. */
const MICROSOCKS_START_TIMEOUT_MS = 10_000;

if (!MICROSOCKS_AVAILABLE) {
  console.log(
    `skipping microsocks tests: ${MICROSOCKS_PATH} not found (apt-get install microsocks)`,
  );
}

/** Runs Debian's microsocks on a free loopback port until `close`. */
async function startMicrosocks(
  credentials?: { username: string; password: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const port = await closedPort();
  const args = ["-i", "127.0.0.1", "-p", String(port)];
  if (credentials) args.push("-u", credentials.username, "-P", credentials.password);
  const child = new Deno.Command(MICROSOCKS_PATH, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await child.status;
  };

  const deadline = Date.now() + MICROSOCKS_START_TIMEOUT_MS;
  while (!await accepts(port)) {
    if (Date.now() > deadline) {
      await close();
      throw new Error(`microsocks did not listen on 127.0.0.1:${port} within 10s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, close };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

Deno.test({
  name: "prober reads the chain through microsocks",
  ignore: !MICROSOCKS_AVAILABLE,
  fn: async () => {
    const pki = await issueChain({ dnsNames: ["relay.test"] });
    const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
    const relay = await startMicrosocks();
    try {
      const prober = new Prober({
        dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port }),
      });
      const result = await prober.probe({
        host: "127.0.0.1",
        port: server.port,
        sni: "relay.test",
      });

      assert.equal(result.ok, true, result.error);
      assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
      await server.waitForHandshakes(1);
      assert.deepEqual(server.serverNames, ["relay.test"]);
    } finally {
      await relay.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "prober authenticates to microsocks",
  ignore: !MICROSOCKS_AVAILABLE,
  fn: async () => {
    const pki = await issueChain({ dnsNames: ["auth.test"] });
    const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
    const credentials = { username: "probe", password: "pa55word" };
    const relay = await startMicrosocks(credentials);
    try {
      const endpoint = { host: "127.0.0.1", port: server.port, sni: "auth.test" };
      const good = await new Prober({
        dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port, credentials }),
      }).probe(endpoint);
      assert.equal(good.ok, true, good.error);
      assert.deepEqual(good.chain, [pki.leaf.der, pki.intermediate.der]);

      const bad = await new Prober({
        dialer: new Socks5Dialer({
          host: "127.0.0.1",
          port: relay.port,
          credentials: { username: "probe", password: "wrong" },
        }),
      }).probe(endpoint);
      assert.equal(bad.ok, false);
      assert.match(bad.error ?? "", /rejected the credentials/);
    } finally {
      await relay.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "prober reports refused through microsocks",
  ignore: !MICROSOCKS_AVAILABLE,
  fn: async () => {
    const port = await closedPort();
    const relay = await startMicrosocks();
    try {
      const prober = new Prober({
        dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port }),
      });
      const result = await prober.probe({ host: "127.0.0.1", port });

      assert.equal(result.ok, false);
      assert.equal(result.errorCode, "REFUSED", result.error);
      assert.match(result.error ?? "", new RegExp(`SOCKS5 relay 127\\.0\\.0\\.1:${relay.port}`));
    } finally {
      await relay.close();
    }
  },
});

Deno.test("prober sends names unresolved to the trustwatch relay", async () => {
  const pki = await issueChain({ dnsNames: ["webhook.payments.svc"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  const resolve = new ResolveMap([
    { host: "webhook.payments.svc", port: server.port, address: "127.0.0.1" },
  ]);
  const relay = await startSocks5Server({
    hostname: "127.0.0.1",
    port: 0,
    resolve,
    resolveOnly: true,
  });
  try {
    const prober = new Prober({
      dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port }),
    });
    const found = await prober.probe({ host: "webhook.payments.svc", port: server.port });
    assert.equal(found.ok, true, found.error);
    assert.deepEqual(found.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.equal(found.address, `webhook.payments.svc:${server.port}`);

    const unknown = await prober.probe({ host: "other.payments.svc", port: server.port });
    assert.equal(unknown.errorCode, "UNREACHABLE", unknown.error);
    assert.match(
      unknown.error ?? "",
      /could not connect to other\.payments\.svc:\d+: host unreachable/,
    );
  } finally {
    await relay.close();
    await server.close();
  }
});

Deno.test("prober times out a silent server behind the relay", async () => {
  const server = await startSilentServer();
  const relay = await startSocks5Server({ hostname: "127.0.0.1", port: 0, resolveOnly: true });
  try {
    const prober = new Prober({
      timeoutMs: 500,
      dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port }),
    });
    const result = await prober.probe({ host: "127.0.0.1", port: server.port });
    assert.equal(result.errorCode, "TIMEOUT", result.error);
  } finally {
    await relay.close();
    await server.close();
  }
});

Deno.test({
  name: "prober falls back to TLS 1.2 hello through the relay",
  ignore: !OPENSSL_AVAILABLE,
  fn: async () => {
    const pki = await issueChain({ dnsNames: ["old.test"] });
    const server = await startOpensslServer(pki.leaf, [pki.intermediate], ["-tls1"]);
    const relay = await startSocks5Server({ hostname: "127.0.0.1", port: 0, resolveOnly: true });
    try {
      const prober = new Prober({
        dialer: new Socks5Dialer({ host: "127.0.0.1", port: relay.port }),
      });
      const result = await prober.probe({ host: "127.0.0.1", port: server.port, sni: "old.test" });

      assert.equal(result.ok, true, result.error);
      assert.equal(result.legacyHandshake, true);
      assert.equal(result.tlsVersion, "TLSv1");
      assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    } finally {
      await relay.close();
      await server.close();
    }
  },
});

Deno.test("prober reports an unreachable relay", async () => {
  const port = await closedPort();
  const prober = new Prober({ dialer: new Socks5Dialer({ host: "127.0.0.1", port }) });
  const result = await prober.probe({ host: "127.0.0.1", port: 443 });

  assert.equal(result.errorCode, "REFUSED", result.error);
  assert.match(result.error ?? "", new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
});
