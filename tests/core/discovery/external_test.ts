import assert from "node:assert/strict";
import { defaultConfig } from "../../../core/config.ts";
import {
  ExternalDiscoverer,
  externalTarget as buildExternalTarget,
} from "../../../core/discovery/external.ts";
import type { Target } from "../../../core/target.ts";
import { issueCertificate } from "../../support/pki.ts";
import { startTlsServer } from "../probe/_servers.ts";
import { discoverAll, discoveryContext, onlyFinding, scanWith } from "./_discovery_harness.ts";

function configWith(external: ReturnType<typeof defaultConfig>["external"]) {
  return { ...defaultConfig(), external };
}

function externalTarget(
  url: string,
  endpoint: { host: string; port: number; sni?: string },
  extra: { expectedName?: string; severityOverride?: "critical" | "warn" | "info" } = {},
): Target {
  return {
    kind: "endpoint",
    source: "external",
    name: url,
    failClosed: false,
    severityOverride: extra.severityOverride,
    endpoint: { sni: undefined, ...endpoint },
    expectedNames: [extra.expectedName ?? endpoint.host],
    trust: { kind: "system" },
  };
}

Deno.test("external discoverer reads https and tcp URLs", async () => {
  const config = configWith([
    { url: "https://status.example.com" },
    { url: "https://status.example.com:8443" },
    { url: "tcp://db.example.com:5432?sni=db.internal" },
    { url: "tcp://db.example.com:5433?sni=from-query", sni: "from-config", severity: "critical" },
    { url: "https://[::1]:9443" },
  ]);
  const targets = await discoverAll(
    new ExternalDiscoverer(),
    discoveryContext(undefined, { config }),
  );
  assert.deepEqual(targets, [
    externalTarget("https://status.example.com", { host: "status.example.com", port: 443 }),
    externalTarget("https://status.example.com:8443", { host: "status.example.com", port: 8443 }),
    externalTarget(
      "tcp://db.example.com:5432?sni=db.internal",
      { host: "db.example.com", port: 5432, sni: "db.internal" },
      { expectedName: "db.internal" },
    ),
    externalTarget(
      "tcp://db.example.com:5433?sni=from-query",
      { host: "db.example.com", port: 5433, sni: "from-config" },
      { expectedName: "from-config", severityOverride: "critical" },
    ),
    externalTarget("https://[::1]:9443", { host: "::1", port: 9443 }),
  ]);
});

Deno.test("external discoverer reports a tcp URL without port and goes on", async () => {
  const config = configWith([{ url: "tcp://db.example.com" }, { url: "https://127.0.0.1:9443" }]);
  const targets = await discoverAll(
    new ExternalDiscoverer(),
    discoveryContext(undefined, { config }),
  );

  assert.equal(targets.length, 2, "the URL after the bad one is still scanned");
  const [problem, endpoint] = targets;
  assert.equal(problem.kind, "problem");
  assert.equal(problem.kind === "problem" && problem.findingType, "INVALID_URL");
  assert.match(
    problem.kind === "problem" ? problem.message : "",
    /external url "tcp:\/\/db\.example\.com"/,
  );
  assert.match(problem.kind === "problem" ? problem.message : "", /needs a port/);
  assert.equal(endpoint.kind, "endpoint");
});

Deno.test("external scan sends the configured SNI and honours severity", async () => {
  const ca = await issueCertificate({ commonName: "private external CA", isCA: true });
  const leaf = await issueCertificate({
    commonName: "db.internal",
    dnsNames: ["db.internal", "api.internal"],
    issuer: ca,
  });
  const server = await startTlsServer(leaf, [leaf, ca]);
  const queryUrl = `tcp://127.0.0.1:${server.port}?sni=db.internal`;
  const configUrl = `https://127.0.0.1:${server.port}`;
  const config = configWith([
    { url: queryUrl },
    { url: configUrl, sni: "api.internal", severity: "critical" },
  ]);

  try {
    const snapshot = await scanWith(new ExternalDiscoverer(), { config });
    assert.deepEqual(snapshot.errors, []);
    // The client may finish its side of the handshake before the server records it.
    await server.waitForHandshakes(2);
    assert.deepEqual([...server.serverNames].sort(), ["api.internal", "db.internal"]);

    const fromQuery = onlyFinding(snapshot, (finding) => finding.name === queryUrl, queryUrl);
    assert.equal(fromQuery.sni, "db.internal");
    assert.equal(fromQuery.probeOk, true);
    assert.equal(fromQuery.severity, "warn", "a private CA is not in the system roots");
    assert.equal(fromQuery.findingType, "CHAIN_INVALID");

    const fromConfig = onlyFinding(snapshot, (finding) => finding.name === configUrl, configUrl);
    assert.equal(fromConfig.sni, "api.internal");
    assert.equal(fromConfig.severity, "critical", "config severity replaces the computed one");
    assert.equal(fromConfig.findingType, "CHAIN_INVALID");
  } finally {
    await server.close();
  }
});

Deno.test("externalTarget rejects credentials, paths and other schemes", () => {
  const cases: [string, RegExp][] = [
    ["https://admin:hunter2@db.example.com", /contains credentials; remove user:password@/],
    ["https://status.example.com/health?full=1", /has a path, query or fragment/],
    ["http://status.example.com", /has scheme http:; expected https: or tcp:/],
    ["not a url at all", /is not a URL/],
  ];
  for (const [url, expected] of cases) {
    assert.throws(() => buildExternalTarget({ url }), (error: Error) => {
      assert.match(error.message, expected, url);
      assert.doesNotMatch(error.message, /hunter2/, "a password is never quoted back");
      return true;
    });
  }
});
