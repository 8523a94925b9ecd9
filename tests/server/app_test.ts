import assert from "node:assert/strict";
import type { Snapshot } from "../../core/model.ts";
import { createApp, MAX_URL_LENGTH } from "../../server/app.ts";
import { TrustwatchMetrics } from "../../server/metrics.ts";
import type { ScanStatus } from "../../server/scan_loop.ts";

const NOW_MS = Date.parse("2030-01-01T00:10:00Z");
const INTERVAL_MS = 120_000;

const snapshot: Snapshot = {
  at: "2030-01-01T00:00:00Z",
  errors: [],
  findings: [
    {
      source: "k8s.tlsSecret",
      severity: "critical",
      probeOk: true,
      notAfter: "2029-12-01T00:00:00Z",
      namespace: "payments",
      name: "a",
    },
    {
      source: "k8s.webhook",
      severity: "warn",
      probeOk: true,
      notAfter: "2030-01-20T00:00:00Z",
      namespace: "kyverno",
      name: "b",
    },
    {
      source: "k8s.tlsSecret",
      severity: "info",
      probeOk: true,
      notAfter: "2031-01-01T00:00:00Z",
      namespace: "payments",
      name: "c",
    },
  ],
};

function appWith(status: Partial<ScanStatus>, metricsPath = "/metrics") {
  const metrics = new TrustwatchMetrics({ sources: ["k8s.tlsSecret"], now: () => NOW_MS });
  if (status.snapshot) {
    metrics.recordScan(status.snapshot, { durationMs: 1000, completedAtMs: NOW_MS - 60_000 });
  }
  const full: ScanStatus = {
    startedAtMs: NOW_MS - 600_000,
    scanning: false,
    scansCompleted: status.snapshot ? 1 : 0,
    overruns: 0,
    ...status,
  };
  const handler = createApp({
    metrics,
    metricsPath,
    refreshEveryMs: INTERVAL_MS,
    status: () => full,
    now: () => NOW_MS,
  });
  return (path: string, init?: RequestInit) =>
    handler(new Request(`http://127.0.0.1${path}`, init));
}

const scanned = { snapshot, lastCompletedAtMs: NOW_MS - 60_000 };

Deno.test("app serves the filtered snapshot", async () => {
  const get = appWith(scanned);
  const all = await get("/api/v1/snapshot");
  assert.equal(all.status, 200);
  assert.equal(all.headers.get("content-type"), "application/json; charset=utf-8");
  assert.deepEqual(await all.json(), snapshot);

  const problems = await (await get("/api/v1/snapshot?severity=critical,warn")).json() as Snapshot;
  assert.deepEqual(problems.findings.map((finding) => finding.name), ["a", "b"]);
  const payments = await (await get("/api/v1/snapshot?namespace=payments&source=k8s.tlsSecret"))
    .json() as Snapshot;
  assert.deepEqual(payments.findings.map((finding) => finding.name), ["a", "c"]);
});

Deno.test("app rejects an invalid snapshot filter with 400", async () => {
  const response = await appWith(scanned)("/api/v1/snapshot?severity=urgent");
  assert.equal(response.status, 400);
  assert.match((await response.json()).error, /invalid severity "urgent"/);
});

Deno.test("app answers 503 before the first scan", async () => {
  const get = appWith({});
  const snapshotResponse = await get("/api/v1/snapshot");
  assert.equal(snapshotResponse.status, 503);
  assert.match((await snapshotResponse.json()).error, /no scan has completed yet/);
  const health = await get("/healthz");
  assert.equal(health.status, 503);
  assert.match(await health.text(), /^no scan has completed yet \(started 600s ago\)/);
  const ready = await get("/readyz");
  assert.equal(ready.status, 503);
  assert.equal((await ready.json()).ready, false);
});

Deno.test("app healthz turns 503 when scans stall", async () => {
  const fresh = await appWith(scanned)("/healthz");
  assert.equal(fresh.status, 200);
  assert.equal(await fresh.text(), "ok\n");

  const stale = await appWith({ snapshot, lastCompletedAtMs: NOW_MS - 2 * INTERVAL_MS - 1_000 })(
    "/healthz",
  );
  assert.equal(stale.status, 503);
  assert.match(await stale.text(), /last scan completed 4m1s ago/);
});

Deno.test("app serves metrics on the configured path", async () => {
  const get = appWith(scanned, "/prom");
  const response = await get("/prom");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  assert.match(await response.text(), /trustwatch_findings\{severity="critical"\} 1/);
  assert.equal((await get("/metrics")).status, 404);
});

Deno.test("app serves the UI with a strict content security policy", async () => {
  const get = appWith(scanned);
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const policy = page.headers.get("content-security-policy")!;
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /script-src 'self'(;|$)/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.match(await page.text(), /<script src="\.\/assets\/app\.js" defer><\/script>/);

  const script = await get("/assets/app.js");
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  const stylesheet = await get("/assets/app.css");
  assert.equal(stylesheet.headers.get("content-type"), "text/css; charset=utf-8");
  await script.body?.cancel();
  await stylesheet.body?.cancel();
});

Deno.test("app rejects writes, bodies and long URLs", async () => {
  const get = appWith(scanned);
  const post = await get("/api/v1/snapshot", { method: "POST", body: "{}" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");

  const withBody = await get("/api/v1/snapshot", {
    method: "GET",
    headers: { "content-length": "1048576" },
  });
  assert.equal(withBody.status, 413);

  const long = await get(`/api/v1/snapshot?namespace=${"a".repeat(MAX_URL_LENGTH)}`);
  assert.equal(long.status, 414);

  const missing = await get("/nope");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("x-content-type-options"), "nosniff");
  await Promise.all([post, withBody, long, missing].map((response) => response.body?.cancel()));
});
