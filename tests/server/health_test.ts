import assert from "node:assert/strict";
import type { Snapshot } from "../../core/model.ts";
import { checkHealth, formatGoDuration, readinessOf } from "../../server/health.ts";
import type { ScanStatus } from "../../server/scan_loop.ts";

const STARTED_MS = Date.parse("2030-01-01T00:00:00Z");
const INTERVAL_MS = 120_000;

const snapshot: Snapshot = {
  at: "2030-01-01T00:00:00Z",
  errors: [{ source: "k8s.webhook", message: "forbidden" }],
  findings: [
    {
      source: "k8s.tlsSecret",
      severity: "critical",
      probeOk: true,
      notAfter: "2029-12-01T00:00:00Z",
    },
    { source: "k8s.tlsSecret", severity: "info", probeOk: true, notAfter: "2031-01-01T00:00:00Z" },
  ],
};

function statusBeforeFirstScan(): ScanStatus {
  return { startedAtMs: STARTED_MS, scanning: true, scansCompleted: 0, overruns: 0 };
}

function statusAfterScanAt(completedAtMs: number): ScanStatus {
  return {
    startedAtMs: STARTED_MS,
    snapshot,
    lastCompletedAtMs: completedAtMs,
    lastDurationMs: 4_000,
    scanning: false,
    scansCompleted: 1,
    overruns: 0,
  };
}

Deno.test("healthz fails before the first scan", () => {
  const health = checkHealth(statusBeforeFirstScan(), STARTED_MS + 90_000, INTERVAL_MS);
  assert.equal(health.healthy, false);
  assert.equal(health.reason, "no scan has completed yet (started 90s ago)");
});

Deno.test("healthz passes up to twice the interval", () => {
  const status = statusAfterScanAt(STARTED_MS + 5_000);
  assert.equal(checkHealth(status, STARTED_MS + 6_000, INTERVAL_MS).healthy, true);
  assert.equal(
    checkHealth(status, STARTED_MS + 5_000 + 2 * INTERVAL_MS, INTERVAL_MS).healthy,
    true,
  );
});

Deno.test("healthz fails once the last scan is stale", () => {
  const status = statusAfterScanAt(STARTED_MS + 5_000);
  const health = checkHealth(status, STARTED_MS + 5_001 + 2 * INTERVAL_MS, INTERVAL_MS);
  assert.equal(health.healthy, false);
  assert.equal(
    health.reason,
    "the last scan completed 4m0s ago, more than twice the refresh interval of 2m0s",
  );
});

Deno.test("readyz reports not ready before the first scan", () => {
  assert.deepEqual(readinessOf(statusBeforeFirstScan(), STARTED_MS + 1_000), {
    lastScan: null,
    scanAge: null,
    scanAgeSeconds: null,
    discoveryErrors: 0,
    findingsCount: 0,
    ready: false,
  });
});

Deno.test("readyz reports the last scan", () => {
  const readiness = readinessOf(statusAfterScanAt(STARTED_MS + 5_000), STARTED_MS + 95_000);
  assert.deepEqual(readiness, {
    lastScan: "2030-01-01T00:00:05Z",
    scanAge: "1m30s",
    scanAgeSeconds: 90,
    discoveryErrors: 1,
    findingsCount: 2,
    ready: true,
  });
});

Deno.test("formatGoDuration writes Go duration strings", () => {
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(45_000), "45s");
  assert.equal(formatGoDuration(125_400), "2m5s");
  assert.equal(formatGoDuration(3_603_000), "1h0m3s");
});
