import assert from "node:assert/strict";
import { Prober, type ProbeResult } from "../../../core/probe/prober.ts";
import { ResolveMap } from "../../../core/probe/resolve.ts";
import { daysFromNow, issueCertificate, issueChain } from "../../support/pki.ts";
import {
  closedPort,
  ipv6LoopbackAvailable,
  OPENSSL_AVAILABLE,
  OPENSSL_PATH,
  startBatchingServer,
  startOpensslServer,
  startPlainServer,
  startSilentServer,
  startTlsServer,
} from "./_servers.ts";

/** Upper bound for "promptly" in cancellation tests: far below the probe timeout in use. */
const PROMPT_MS = 10_000;

const IPV6_AVAILABLE = ipv6LoopbackAvailable();

if (!OPENSSL_AVAILABLE) {
  console.log(`skipping openssl s_server tests: ${OPENSSL_PATH} not found`);
}
if (!IPV6_AVAILABLE) {
  console.log("skipping IPv6 tests: cannot listen on [::1] on this machine");
}

function withDeadline<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took more than ${milliseconds}ms`)),
      milliseconds,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Collects log events so tests can check what the prober logged. */
class RecordingLogger {
  debugs: Array<{ message: string; properties?: Record<string, unknown> }> = [];
  warnings: Array<{ message: string; properties?: Record<string, unknown> }> = [];

  debug(message: string, properties?: Record<string, unknown>): void {
    this.debugs.push({ message, properties });
  }

  warn(message: string, properties?: Record<string, unknown>): void {
    this.warnings.push({ message, properties });
  }

  debugMessages(): string[] {
    return this.debugs.map((event) => event.message);
  }
}

function assertFailed(result: ProbeResult, errorCode: string): void {
  assert.equal(result.ok, false, `expected a failed probe, got ${JSON.stringify(result)}`);
  assert.equal(result.errorCode, errorCode, `unexpected error: ${result.error}`);
  assert.deepEqual(result.chain, []);
}

Deno.test("prober reads a healthy chain in the order the server sent it", async () => {
  const pki = await issueChain({ dnsNames: ["healthy.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const resolve = new ResolveMap([
      { host: "healthy.test", port: server.port, address: "127.0.0.1" },
    ]);
    const result = await new Prober({ resolve }).probe({ host: "healthy.test", port: server.port });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.equal(result.tlsVersion, "TLSv1.3");
    assert.match(result.cipherSuite ?? "", /^TLS_/);
    assert.deepEqual(result.postureIssues, []);
    assert.equal(result.legacyHandshake, false);
    assert.equal(result.address, `127.0.0.1:${server.port}`);
    assert.equal(result.error, undefined);
    assert.equal(result.errorCode, undefined);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns the chain of an expired leaf", async () => {
  const pki = await issueChain({
    dnsNames: ["expired.test"],
    leafNotBefore: daysFromNow(-60),
    leafNotAfter: daysFromNow(-1),
  });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "expired.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns the chain of a not-yet-valid leaf", async () => {
  const pki = await issueChain({
    dnsNames: ["future.test"],
    leafNotBefore: daysFromNow(10),
    leafNotAfter: daysFromNow(100),
  });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "future.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns the chain when the SAN does not match the SNI", async () => {
  const pki = await issueChain({ dnsNames: ["right.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "wrong.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    await withDeadline(server.waitForHandshakes(1), PROMPT_MS, "server handshake");
    assert.deepEqual(server.serverNames, ["wrong.test"]);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns only the leaf when the intermediate is missing", async () => {
  const pki = await issueChain({ dnsNames: ["partial.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "partial.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [pki.leaf.der]);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns a self-signed certificate", async () => {
  const certificate = await issueCertificate({ commonName: "self.test", dnsNames: ["self.test"] });
  const server = await startTlsServer(certificate, [certificate]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "self.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.chain, [certificate.der]);
    assert.equal(result.legacyHandshake, false);
  } finally {
    await server.close();
  }
});

Deno.test("prober sends the SNI and none for an IP host", async () => {
  const pki = await issueChain({ dnsNames: ["sni.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const prober = new Prober();
    const named = await prober.probe({ host: "127.0.0.1", port: server.port, sni: "sni.test" });
    await withDeadline(server.waitForHandshakes(1), PROMPT_MS, "server handshake");
    const bare = await prober.probe({ host: "127.0.0.1", port: server.port });
    await withDeadline(server.waitForHandshakes(2), PROMPT_MS, "server handshake");

    assert.equal(named.ok, true, named.error);
    assert.equal(bare.ok, true, bare.error);
    assert.deepEqual(server.serverNames, ["sni.test", undefined]);
  } finally {
    await server.close();
  }
});

Deno.test("prober dials the resolve override and keeps the SNI", async () => {
  const pki = await issueChain({ dnsNames: ["webhook.ns.svc"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const resolve = new ResolveMap([{
      host: "webhook.ns.svc",
      port: server.port,
      address: "127.0.0.1",
    }]);
    const result = await new Prober({ resolve }).probe({
      host: "webhook.ns.svc",
      port: server.port,
    });

    assert.equal(result.ok, true, result.error);
    assert.equal(result.address, `127.0.0.1:${server.port}`);
    await withDeadline(server.waitForHandshakes(1), PROMPT_MS, "server handshake");
    assert.deepEqual(server.serverNames, ["webhook.ns.svc"]);
  } finally {
    await server.close();
  }
});

Deno.test("prober reads a TLS 1.0-only server through the fallback", {
  ignore: !OPENSSL_AVAILABLE,
}, async () => {
  const pki = await issueChain({ dnsNames: ["old.test"], leafKeyType: "rsa2048" });
  const server = await startOpensslServer(pki.leaf, [pki.intermediate], ["-tls1"]);
  try {
    const logger = new RecordingLogger();
    const prober = new Prober({ logger });
    const result = await prober.probe({ host: "127.0.0.1", port: server.port, sni: "old.test" });

    assert.equal(result.ok, true, result.error);
    assert.equal(result.legacyHandshake, true);
    assert.equal(result.tlsVersion, "TLSv1");
    assert.match(result.cipherSuite ?? "", /^TLS_/);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.ok(
      result.postureIssues.includes("server negotiated TLS 1.0, which is deprecated (RFC 8996)"),
      `posture issues: ${JSON.stringify(result.postureIssues)}`,
    );
    assert.equal(result.error, undefined);
    assert.deepEqual(logger.debugMessages(), [
      "probe started",
      "TLS handshake failed, retrying with a TLS 1.2 ClientHello on a plain socket",
      "probe finished",
    ]);
    assert.deepEqual(logger.warnings, []);
  } finally {
    await server.close();
  }
});

Deno.test("prober returns the chain of an RSA-1024 leaf without an error", {
  ignore: !OPENSSL_AVAILABLE,
}, async () => {
  // Deno 2.9.6's node:tls rejects this handshake ("unable to get local issuer certificate"),
  // so the chain arrives through the fallback. Either path must return the chain as sent.
  const pki = await issueChain({ dnsNames: ["weak.test"], leafKeyType: "rsa1024" });
  const server = await startOpensslServer(pki.leaf, [pki.intermediate], []);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "weak.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.ok(
      result.tlsVersion === "TLSv1.2" || result.tlsVersion === "TLSv1.3",
      `tlsVersion ${result.tlsVersion}`,
    );
    assert.deepEqual(result.postureIssues, []);
  } finally {
    await server.close();
  }
});

Deno.test("prober reads a TLS 1.2-only server on the normal path", {
  ignore: !OPENSSL_AVAILABLE,
}, async () => {
  const pki = await issueChain({ dnsNames: ["twelve.test"] });
  const server = await startOpensslServer(pki.leaf, [pki.intermediate], ["-tls1_2"]);
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "twelve.test",
    });

    assert.equal(result.ok, true, result.error);
    assert.equal(result.legacyHandshake, false);
    assert.equal(result.tlsVersion, "TLSv1.2");
    assert.match(result.cipherSuite ?? "", /^TLS_ECDHE_ECDSA_/);
    assert.deepEqual(result.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.deepEqual(result.postureIssues, []);
  } finally {
    await server.close();
  }
});

Deno.test("prober reports NOT_TLS for a plain HTTP port", async () => {
  const server = await startPlainServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  try {
    const result = await new Prober().probe({
      host: "127.0.0.1",
      port: server.port,
      sni: "http.test",
    });

    assertFailed(result, "NOT_TLS");
    assert.equal(
      result.error,
      `127.0.0.1:${server.port} answered with non-TLS data (starts with "HTTP/1.1 400 Bad Request")`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("prober times out on a server that never answers", async () => {
  const server = await startSilentServer();
  try {
    const result = await new Prober({ timeoutMs: 300 }).probe({
      host: "127.0.0.1",
      port: server.port,
    });

    assertFailed(result, "TIMEOUT");
    assert.equal(result.error, `no TLS handshake within 300ms from 127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
});

Deno.test("prober reports a refused connection", async () => {
  const port = await closedPort();

  const result = await new Prober().probe({ host: "127.0.0.1", port });

  assertFailed(result, "REFUSED");
  assert.equal(result.error, `connection refused by 127.0.0.1:${port}`);
  assert.equal(result.address, `127.0.0.1:${port}`);
});

Deno.test("prober keeps at most `concurrency` probes in flight", async () => {
  const server = await startBatchingServer(2, 2_000);
  try {
    const prober = new Prober({ concurrency: 2 });
    const endpoints = Array.from({ length: 6 }, (_, index) => ({
      host: "127.0.0.1",
      port: server.port,
      sni: `bound-${index}.test`,
    }));

    const results = await Promise.all(endpoints.map((endpoint) => prober.probe(endpoint)));

    for (const result of results) assert.equal(result.ok, false);
    assert.ok(server.connections >= 6, `only ${server.connections} connections`);
    assert.ok(server.maxOpen <= 2, `${server.maxOpen} connections were open at once`);
    assert.equal(server.maxOpen, 2);
  } finally {
    await server.close();
  }
});

Deno.test("prober shares one handshake between probes of one endpoint", async () => {
  const pki = await issueChain({ dnsNames: ["dedupe.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate]);
  try {
    const prober = new Prober();
    const endpoint = { host: "127.0.0.1", port: server.port, sni: "dedupe.test" };

    const [first, second] = await Promise.all([
      prober.probe(endpoint),
      prober.probe({ ...endpoint }),
    ]);

    await withDeadline(server.waitForHandshakes(1), PROMPT_MS, "server handshake");
    const third = await prober.probe(endpoint);

    assert.equal(first.ok, true, first.error);
    assert.equal(first, second);
    assert.equal(first, third);
    assert.equal(server.connections, 1);
  } finally {
    await server.close();
  }
});

Deno.test("prober cancels in-flight probe on abort", async () => {
  const server = await startSilentServer();
  try {
    const controller = new AbortController();
    const prober = new Prober({ timeoutMs: 60_000, signal: controller.signal });

    const pending = prober.probe({ host: "127.0.0.1", port: server.port, sni: "cancel.test" });
    await server.waitForConnections(1);
    controller.abort();
    const result = await withDeadline(pending, PROMPT_MS, "cancelled probe");

    assertFailed(result, "CANCELLED");
    assert.equal(result.error, `probe of 127.0.0.1:${server.port} cancelled`);
  } finally {
    await server.close();
  }
});

Deno.test("prober cancels queued probes on abort", async () => {
  const server = await startSilentServer();
  try {
    const controller = new AbortController();
    const prober = new Prober({ timeoutMs: 60_000, concurrency: 1, signal: controller.signal });

    const running = prober.probe({ host: "127.0.0.1", port: server.port, sni: "running.test" });
    const queued = prober.probe({ host: "127.0.0.1", port: server.port, sni: "queued.test" });
    await server.waitForConnections(1);
    controller.abort();
    const results = await withDeadline(
      Promise.all([running, queued]),
      PROMPT_MS,
      "cancelled probes",
    );

    assertFailed(results[0], "CANCELLED");
    assertFailed(results[1], "CANCELLED");
    assert.equal(results[1].error, `probe of 127.0.0.1:${server.port} cancelled before it started`);
    assert.equal(server.connections, 1);
  } finally {
    await server.close();
  }
});

Deno.test("prober reads a server on the IPv6 loopback", { ignore: !IPV6_AVAILABLE }, async () => {
  const pki = await issueChain({ dnsNames: ["six.test"] });
  const server = await startTlsServer(pki.leaf, [pki.leaf, pki.intermediate], { hostname: "::1" });
  try {
    const prober = new Prober({
      resolve: new ResolveMap([{ host: "six.test", port: server.port, address: "::1" }]),
    });

    const direct = await prober.probe({ host: "[::1]", port: server.port, sni: "six.test" });
    const resolved = await prober.probe({ host: "six.test", port: server.port });

    assert.equal(direct.ok, true, direct.error);
    assert.deepEqual(direct.chain, [pki.leaf.der, pki.intermediate.der]);
    assert.equal(direct.address, `[::1]:${server.port}`);
    assert.equal(resolved.ok, true, resolved.error);
    assert.equal(resolved.address, `[::1]:${server.port}`);
  } finally {
    await server.close();
  }
});
