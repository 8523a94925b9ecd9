import assert from "node:assert/strict";
import { assessEndpoint } from "../../../core/analyze.ts";
import { classify } from "../../../core/classify.ts";
import { Prober } from "../../../core/probe/prober.ts";
import type { EndpointTarget } from "../../../core/target.ts";
import { issueCertificate, type IssuedCertificate } from "../../support/pki.ts";
import { OPENSSL_AVAILABLE, startOpensslServer, type TestServer } from "./_servers.ts";

if (!OPENSSL_AVAILABLE) console.log("skipping TLS version scan tests: openssl not installed");

const HOST = "legacy.example.test";
const HOUR_MS = 3_600_000;

async function leafForHost(): Promise<IssuedCertificate> {
  const ca = await issueCertificate({ commonName: "version scan CA", isCA: true });
  return issueCertificate({ commonName: HOST, dnsNames: [HOST], issuer: ca, keyType: "rsa2048" });
}

async function withOpenssl(
  protocolArgs: string[],
  body: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startOpensslServer(await leafForHost(), [], protocolArgs);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function probeOnce(port: number, scanLegacyVersions: boolean) {
  const prober = new Prober({ scanLegacyVersions, timeoutMs: 10_000 });
  return prober.probe({ host: "127.0.0.1", port, sni: HOST });
}

function endpointTarget(port: number): EndpointTarget {
  return {
    kind: "endpoint",
    source: "external",
    name: `https://${HOST}:${port}`,
    failClosed: false,
    endpoint: { host: "127.0.0.1", port, sni: HOST },
    expectedNames: [HOST],
    trust: { kind: "skip", origin: "test" },
  };
}

Deno.test({
  name: "version scan finds TLS 1.0 behind TLS 1.3",
  ignore: !OPENSSL_AVAILABLE,
  async fn() {
    // Accepts TLS 1.0 to 1.3 and prefers the newest, as many servers with old defaults do.
    await withOpenssl([], async (server) => {
      const result = await probeOnce(server.port, true);
      assert.equal(result.ok, true, result.error);
      assert.equal(result.tlsVersion, "TLSv1.3");
      assert.deepEqual(result.acceptedLegacyVersions, ["TLSv1", "TLSv1.1"]);
      assert.deepEqual(result.postureIssues, [
        "server accepts TLS 1.0, which is deprecated (RFC 8996), although it prefers TLS 1.3",
        "server accepts TLS 1.1, which is deprecated (RFC 8996), although it prefers TLS 1.3",
      ]);

      const at = new Date();
      const finding = classify(
        assessEndpoint(endpointTarget(server.port), result, at),
        { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS },
        at,
      );
      assert.equal(finding.severity, "critical", "TLS 1.0 accepted is critical");
      assert.equal(finding.findingType, "WEAK_TLS_VERSION");
      assert.equal(finding.tlsVersion, "TLSv1.3");
      assert.deepEqual(finding.postureIssues, result.postureIssues);
    });
  },
});

Deno.test({
  name: "version scan is off unless asked",
  ignore: !OPENSSL_AVAILABLE,
  async fn() {
    await withOpenssl([], async (server) => {
      const result = await probeOnce(server.port, false);
      assert.equal(result.ok, true, result.error);
      assert.equal(result.acceptedLegacyVersions, undefined);
      assert.deepEqual(result.postureIssues, []);
    });
  },
});

Deno.test({
  name: "version scan of a TLS 1.2-only server finds nothing",
  ignore: !OPENSSL_AVAILABLE,
  async fn() {
    await withOpenssl(["-tls1_2"], async (server) => {
      const result = await probeOnce(server.port, true);
      assert.equal(result.ok, true, result.error);
      assert.equal(result.tlsVersion, "TLSv1.2");
      assert.deepEqual(result.acceptedLegacyVersions, []);
      assert.deepEqual(result.postureIssues, []);
    });
  },
});

Deno.test({
  name: "version scan of TLS 1.0 and 1.1 servers",
  ignore: !OPENSSL_AVAILABLE,
  async fn() {
    await withOpenssl(["-tls1"], async (server) => {
      const result = await probeOnce(server.port, true);
      assert.equal(result.ok, true, result.error);
      assert.equal(result.tlsVersion, "TLSv1");
      assert.deepEqual(result.acceptedLegacyVersions, ["TLSv1"]);
      assert.match(result.postureIssues[0], /negotiated TLS 1\.0/);
    });
    await withOpenssl(["-tls1_1"], async (server) => {
      const result = await probeOnce(server.port, true);
      assert.equal(result.ok, true, result.error);
      assert.equal(result.tlsVersion, "TLSv1.1");
      assert.deepEqual(result.acceptedLegacyVersions, ["TLSv1.1"]);
    });
  },
});
