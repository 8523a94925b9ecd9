import assert from "node:assert/strict";
import type { Snapshot } from "../../core/model.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { runTrustwatch } from "../support/cli.ts";
import { namespace, tlsSecret } from "../sandbox/fixtures.ts";
import { startDemoCluster, startServe, waitFor } from "../server/_serve_process.ts";

const PROMTOOL = "/usr/bin/promtool";
const promtoolPresent = await Deno.stat(PROMTOOL).then(() => true).catch(() => false);
/**
 * Delay of every API response of a stalled sandbox: no scan can complete within it, because each
 * discoverer needs at least one API response.
 */
const SLOW_API_LATENCY_MS = 12_000;
/** The limit for a graceful stop after SIGTERM or SIGINT. */
const SHUTDOWN_LIMIT_MS = 10_000;

async function fetchJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() as T };
}

async function waitForFirstScan(baseUrl: string): Promise<void> {
  await waitFor("the first scan", async () => {
    const response = await fetch(`${baseUrl}/readyz`);
    await response.body?.cancel();
    return response.status === 200 ? true : undefined;
  });
}

async function exitWithin(
  status: Promise<Deno.CommandStatus>,
  limitMs: number,
): Promise<{ status: Deno.CommandStatus; elapsedMs: number }> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), limitMs);
  });
  try {
    const exit = await Promise.race([status, timeout]);
    if (!exit) throw new Error(`serve still running ${limitMs} ms after the signal`);
    return { status: exit, elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("serve reports the demo cluster over HTTP", async () => {
  const cluster = await startDemoCluster({ configText: "clusterName: demo\n" });
  const serve = await startServe(cluster.args);
  try {
    await waitForFirstScan(serve.url);

    const health = await fetch(`${serve.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");

    const ready = await fetchJson<Record<string, unknown>>(`${serve.url}/readyz`);
    assert.equal(ready.body.ready, true);
    assert.equal(ready.body.discoveryErrors, 0);
    assert.equal(typeof ready.body.findingsCount, "number");
    assert.match(String(ready.body.lastScan), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(String(ready.body.scanAge), /^\d+(m\d+)?s$/);

    const all = await fetchJson<Snapshot>(`${serve.url}/api/v1/snapshot`);
    assert.equal(all.status, 200);
    assert.equal(all.body.findings.length, ready.body.findingsCount);
    assert.ok(all.body.findings.every((finding) => finding.cluster === "demo"));

    const critical = await fetchJson<Snapshot>(`${serve.url}/api/v1/snapshot?severity=critical`);
    assert.deepEqual(
      critical.body.findings.map((finding) => `${finding.namespace}/${finding.name}`).sort(),
      [
        "kyverno/kyverno-resource-mutating-webhook-cfg/mutate.kyverno.svc-fail",
        "monitoring/grafana-tls",
        "payments/ledger-tls",
      ],
    );
    const secrets = await fetchJson<Snapshot>(
      `${serve.url}/api/v1/snapshot?source=k8s.tlsSecret&severity=critical,warn&namespace=payments`,
    );
    assert.deepEqual(
      secrets.body.findings.map((finding) => `${finding.severity} ${finding.name}`),
      ["critical ledger-tls", "warn checkout-tls"],
    );
    const invalid = await fetchJson<{ error: string }>(
      `${serve.url}/api/v1/snapshot?source=k8s.nothing`,
    );
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.error, /invalid source "k8s\.nothing"/);

    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    assert.match(
      metrics,
      /trustwatch_cert_expires_in_seconds\{source="k8s\.tlsSecret",namespace="monitoring",name="grafana-tls",cluster="demo",severity="critical"\} -\d+/,
    );
    assert.match(metrics, /trustwatch_findings\{severity="critical"\} 3/);
    assert.match(
      metrics,
      /trustwatch_probe_success\{source="k8s\.ingressTLS",namespace="payments",name="legacy-checkout",cluster="demo"\} 0/,
    );
    assert.match(
      metrics,
      /trustwatch_discoverer_duration_seconds_count\{source="k8s\.webhook"\} [1-9]/,
    );
    assert.doesNotMatch(metrics, /^(process|nodejs)_/m);

    const page = await fetch(`${serve.url}/`);
    assert.match(await page.text(), /<title>trustwatch<\/title>/);
  } finally {
    await serve.stop();
    await cluster.close();
  }
});

Deno.test({
  name: "serve metrics pass promtool check metrics",
  ignore: !promtoolPresent,
  fn: async () => {
    const cluster = await startDemoCluster({ configText: "clusterName: demo\n" });
    const serve = await startServe(cluster.args);
    try {
      await waitForFirstScan(serve.url);
      const scrape = await (await fetch(`${serve.url}/metrics`)).text();
      assert.match(scrape, /trustwatch_cert_not_after_timestamp\{/);

      const check = new Deno.Command(PROMTOOL, {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = check.stdin.getWriter();
      await writer.write(new TextEncoder().encode(scrape));
      await writer.close();
      const result = await check.output();
      const output = new TextDecoder().decode(result.stdout) +
        new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, output);
      assert.equal(output.trim(), "", "promtool lint findings");
    } finally {
      await serve.stop();
      await cluster.close();
    }
  },
});
if (!promtoolPresent) console.log(`skipping promtool check metrics: ${PROMTOOL} not found`);

Deno.test("serve answers 503 before the first scan completes", async () => {
  const cluster = await startDemoCluster({ latencyMs: SLOW_API_LATENCY_MS });
  const serve = await startServe(cluster.args);
  try {
    const health = await fetch(`${serve.url}/healthz`);
    assert.equal(health.status, 503);
    assert.match(await health.text(), /^no scan has completed yet/);

    const ready = await fetchJson<Record<string, unknown>>(`${serve.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.ready, false);
    assert.equal(ready.body.lastScan, null);

    const snapshot = await fetchJson<{ error: string }>(`${serve.url}/api/v1/snapshot`);
    assert.equal(snapshot.status, 503);

    const page = await fetch(`${serve.url}/`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
  } finally {
    await serve.stop();
    await cluster.close();
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`serve stops within 10s on ${signal} during a scan`, async () => {
    const cluster = await startDemoCluster({ latencyMs: SLOW_API_LATENCY_MS });
    const serve = await startServe(cluster.args);
    try {
      const health = await fetch(`${serve.url}/healthz`);
      await health.body?.cancel();
      assert.equal(health.status, 503, "the first scan should still be running");

      serve.child.kill(signal);
      const { status, elapsedMs } = await exitWithin(serve.status, SHUTDOWN_LIMIT_MS);
      assert.equal(status.code, 0, serve.stderr());
      assert.ok(elapsedMs < SHUTDOWN_LIMIT_MS);
      assert.match(serve.stderr(), new RegExp(`received \\\\?"${signal}`));
      assert.match(serve.stderr(), /"stopped"/);
      await assert.rejects(fetch(`${serve.url}/healthz`));
    } finally {
      await serve.stop();
      await cluster.close();
    }
  });
}

Deno.test("serve flags override config values", async () => {
  const cluster = await startDemoCluster({
    // Port 1 cannot be bound without privileges: serve only starts if the flag wins.
    configText: "listenAddr: 127.0.0.1:1\nwarnBefore: 720h\ncritBefore: 336h\n",
  });
  const serve = await startServe([...cluster.args, "--crit-before", "600h"]);
  try {
    await waitForFirstScan(serve.url);
    const checkout = await fetchJson<Snapshot>(
      `${serve.url}/api/v1/snapshot?source=k8s.tlsSecret&namespace=payments`,
    );
    const finding = checkout.body.findings.find((item) => item.name === "checkout-tls");
    assert.equal(finding?.severity, "critical", "20 days left is inside --crit-before 600h");
  } finally {
    await serve.stop();
    await cluster.close();
  }
});

Deno.test("serve picks up namespaces created after start", async () => {
  const cluster = await startDemoCluster();
  const serve = await startServe([...cluster.args, "--refresh-every", "30s"]);
  try {
    await waitForFirstScan(serve.url);
    const before = await fetchJson<Snapshot>(`${serve.url}/api/v1/snapshot?namespace=late`);
    assert.deepEqual(before.body.findings, []);

    const expired = await issueCertificate({
      commonName: "late.example.com",
      notBefore: daysFromNow(-30),
      notAfter: daysFromNow(-1),
    });
    cluster.sandbox.objects.add(namespace("late"));
    cluster.sandbox.objects.add(
      tlsSecret({ namespace: "late", name: "late-tls", certPem: expired.certPem }),
    );

    const found = await waitFor("the second scan to find namespace late", async () => {
      const after = await fetchJson<Snapshot>(`${serve.url}/api/v1/snapshot?namespace=late`);
      return after.body.findings.length > 0 ? after.body.findings : undefined;
    }, 90_000);
    assert.equal(found[0].name, "late-tls");
    assert.equal(found[0].severity, "critical");
  } finally {
    await serve.stop();
    await cluster.close();
  }
});

Deno.test("serve rejects invalid settings with exit code 3", async () => {
  const configPath = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(configPath, "refreshEvery: 2m\nwarnBefore: 720h\nlistenAdr: :8080\n");
    const unknownKey = await runTrustwatch(["serve", "--config", configPath]);
    assert.equal(unknownKey.code, 3);
    assert.match(unknownKey.stderr, /:3: listenAdr: unknown key; check the spelling/);

    const shortRefresh = await runTrustwatch(["serve", "--refresh-every", "10s"]);
    assert.equal(shortRefresh.code, 3);
    assert.match(shortRefresh.stderr, /--refresh-every 10s is too short; use at least 30s/);

    const crossed = await runTrustwatch([
      "serve",
      "--warn-before",
      "100h",
      "--crit-before",
      "200h",
    ]);
    assert.equal(crossed.code, 3);
    assert.match(
      crossed.stderr,
      /--crit-before \(200h\) must be shorter than --warn-before \(100h\)/,
    );

    const badAddress = await runTrustwatch(["serve", "--listen-addr", "localhost"]);
    assert.equal(badAddress.code, 3);
    assert.match(badAddress.stderr, /invalid listen address "localhost"/);
  } finally {
    await Deno.remove(configPath);
  }
});
