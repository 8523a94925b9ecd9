import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { TrustwatchMetrics } from "../../server/metrics.ts";

const NOW_MS = Date.parse("2030-01-01T00:00:00Z");

function finding(overrides: Partial<Finding>): Finding {
  return {
    source: "k8s.tlsSecret",
    severity: "info",
    probeOk: true,
    notAfter: "2030-06-01T00:00:00Z",
    namespace: "payments",
    name: "api-tls",
    ...overrides,
  };
}

function snapshot(findings: Finding[], errors: Snapshot["errors"] = []): Snapshot {
  return { at: "2030-01-01T00:00:00Z", errors, findings };
}

function newMetrics(now = () => NOW_MS): TrustwatchMetrics {
  return new TrustwatchMetrics({
    clusterName: "prod-eu",
    sources: ["k8s.tlsSecret", "k8s.webhook"],
    now,
  });
}

/** Returns the sample lines of `name` (exact metric name, no suffixes). */
async function samples(metrics: TrustwatchMetrics, name: string): Promise<string[]> {
  const text = await metrics.metrics();
  return text.split("\n").filter((line) =>
    line.startsWith(`${name}{`) || line.startsWith(`${name} `)
  );
}

const timing = { durationMs: 1500, completedAtMs: NOW_MS };

Deno.test("metrics remove series of a vanished finding", async () => {
  const metrics = newMetrics();
  metrics.recordScan(
    snapshot([finding({ name: "api-tls" }), finding({ name: "old-tls", probeOk: false })]),
    timing,
  );
  assert.equal((await samples(metrics, "trustwatch_cert_not_after_timestamp")).length, 2);

  metrics.recordScan(snapshot([finding({ name: "api-tls" })]), timing);

  for (
    const name of [
      "trustwatch_cert_not_after_timestamp",
      "trustwatch_cert_expires_in_seconds",
      "trustwatch_probe_success",
    ]
  ) {
    const lines = await samples(metrics, name);
    assert.equal(lines.length, 1, `${name}: ${lines.join("\n")}`);
    assert.doesNotMatch(lines[0], /old-tls/);
  }
});

Deno.test("metrics replace series when severity changes", async () => {
  const metrics = newMetrics();
  metrics.recordScan(snapshot([finding({ severity: "warn" })]), timing);
  metrics.recordScan(snapshot([finding({ severity: "critical" })]), timing);

  for (
    const name of ["trustwatch_cert_not_after_timestamp", "trustwatch_cert_expires_in_seconds"]
  ) {
    const lines = await samples(metrics, name);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /severity="critical"/);
  }
});

Deno.test("metrics label series with source, namespace, name, severity and cluster", async () => {
  const metrics = newMetrics();
  metrics.recordScan(
    snapshot([
      finding({ severity: "warn" }),
      finding({ source: "k8s.webhook", namespace: undefined, name: "hook", cluster: "remote" }),
    ]),
    timing,
  );
  assert.deepEqual(await samples(metrics, "trustwatch_cert_not_after_timestamp"), [
    'trustwatch_cert_not_after_timestamp{source="k8s.tlsSecret",namespace="payments",' +
    'name="api-tls",cluster="prod-eu",severity="warn"} 1906502400',
    'trustwatch_cert_not_after_timestamp{source="k8s.webhook",namespace="",name="hook",' +
    'cluster="remote",severity="info"} 1906502400',
  ]);
});

Deno.test("metrics compute expires-in at scrape time", async () => {
  let now = NOW_MS;
  const metrics = newMetrics(() => now);
  metrics.recordScan(snapshot([finding({ notAfter: "2030-01-01T01:00:00Z" })]), timing);
  assert.match((await samples(metrics, "trustwatch_cert_expires_in_seconds"))[0], / 3600$/);

  now += 7_200_000;
  assert.match((await samples(metrics, "trustwatch_cert_expires_in_seconds"))[0], / -3600$/);
});

Deno.test("metrics keep the earliest expiry of a shared label set", async () => {
  const metrics = newMetrics();
  metrics.recordScan(
    snapshot([
      finding({ notAfter: "2030-06-01T00:00:00Z" }),
      finding({ notAfter: "2030-02-01T00:00:00Z", probeOk: false }),
    ]),
    timing,
  );
  const notAfter = await samples(metrics, "trustwatch_cert_not_after_timestamp");
  assert.equal(notAfter.length, 1);
  assert.match(notAfter[0], / 1896134400$/);
  assert.match((await samples(metrics, "trustwatch_probe_success"))[0], / 0$/);
});

Deno.test("metrics skip expiry of findings without a certificate", async () => {
  const metrics = newMetrics();
  metrics.recordScan(
    snapshot([finding({ notAfter: "0001-01-01T00:00:00Z", probeOk: false, severity: "warn" })]),
    timing,
  );
  assert.deepEqual(await samples(metrics, "trustwatch_cert_not_after_timestamp"), []);
  assert.deepEqual(await samples(metrics, "trustwatch_probe_success"), [
    'trustwatch_probe_success{source="k8s.tlsSecret",namespace="payments",name="api-tls",' +
    'cluster="prod-eu"} 0',
  ]);
});

Deno.test("metrics count findings, chain errors and discovery errors", async () => {
  const metrics = newMetrics();
  const scan = snapshot(
    [
      finding({ severity: "critical", chainErrors: ["unknown authority"] }),
      finding({ severity: "warn", name: "b" }),
      finding({ severity: "warn", name: "c" }),
    ],
    [{ source: "k8s.webhook", message: "forbidden" }],
  );
  metrics.recordScan(scan, timing);
  metrics.recordScan(scan, { durationMs: 2500, completedAtMs: NOW_MS + 60_000 });

  assert.deepEqual(await samples(metrics, "trustwatch_findings"), [
    'trustwatch_findings{severity="critical"} 1',
    'trustwatch_findings{severity="warn"} 2',
    'trustwatch_findings{severity="info"} 0',
  ]);
  assert.deepEqual(await samples(metrics, "trustwatch_chain_errors"), [
    'trustwatch_chain_errors{source="k8s.tlsSecret"} 1',
    'trustwatch_chain_errors{source="k8s.webhook"} 0',
  ]);
  assert.deepEqual(await samples(metrics, "trustwatch_discovery_errors_total"), [
    'trustwatch_discovery_errors_total{source="k8s.tlsSecret"} 0',
    'trustwatch_discovery_errors_total{source="k8s.webhook"} 2',
  ]);
  assert.deepEqual(await samples(metrics, "trustwatch_scan_duration_seconds"), [
    "trustwatch_scan_duration_seconds 2.5",
  ]);
  assert.deepEqual(await samples(metrics, "trustwatch_last_scan_timestamp_seconds"), [
    `trustwatch_last_scan_timestamp_seconds ${(NOW_MS + 60_000) / 1000}`,
  ]);
});

Deno.test("metrics registry holds only trustwatch metrics", async () => {
  const metrics = newMetrics();
  metrics.observeDiscoverer("k8s.webhook", 0.3);
  metrics.recordScan(snapshot([finding({})]), timing);
  const names = new Set(
    (await metrics.metrics()).split("\n")
      .filter((line) => line.startsWith("# TYPE "))
      .map((line) => line.split(" ")[2]),
  );
  assert.deepEqual([...names].sort(), [
    "trustwatch_cert_expires_in_seconds",
    "trustwatch_cert_not_after_timestamp",
    "trustwatch_chain_errors",
    "trustwatch_discoverer_duration_seconds",
    "trustwatch_discovery_errors_total",
    "trustwatch_findings",
    "trustwatch_last_scan_timestamp_seconds",
    "trustwatch_probe_success",
    "trustwatch_scan_duration_seconds",
  ]);
  assert.match(
    await metrics.metrics(),
    /trustwatch_discoverer_duration_seconds_bucket\{le="0\.5",source="k8s\.webhook"\} 1/,
  );
});
