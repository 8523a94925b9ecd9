import assert from "node:assert/strict";
import { parse } from "yaml";
import type { PrometheusRule } from "../../core/rules.ts";
import { runTrustwatch } from "../support/cli.ts";

async function withConfig(text: string, run: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ prefix: "trustwatch-validate-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(path, text);
    await run(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("validate accepts a complete serve config", async () => {
  await withConfig(
    `listenAddr: ":8080"
metricsPath: /metrics
refreshEvery: 2m
warnBefore: 720h
critBefore: 336h
namespaces: [payments]
clusterName: prod-eu
external:
  - url: https://status.example.com
    sni: status.example.com
    severity: critical
remotes:
  - name: prod-us
    url: http://trustwatch.prod-us.example.com:8080
notifications:
  enabled: true
  webhooks:
    - url: https://hooks.example.com/T000
      type: slack
  severities: [critical, warn]
  cooldown: 6h
`,
    async (path) => {
      const run = await runTrustwatch(["validate", path]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${path}: valid\n`);
    },
  );
});

Deno.test("validate reports an unknown key with its line", async () => {
  await withConfig("warnBefore: 720h\nrefreshEvry: 2m\n", async (path) => {
    const run = await runTrustwatch(["validate", path]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr.trim(),
      `trustwatch: ${path}:2: refreshEvry: unknown key; check the spelling`,
    );
  });
});

Deno.test("validate reports a bad duration with its key path", async () => {
  await withConfig("notifications:\n  enabled: true\n  cooldown: 6 hours\n", async (path) => {
    const run = await runTrustwatch(["validate", path]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(`${path}:3: notifications\\.cooldown: invalid duration "6 hours"`),
    );
  });
});

Deno.test("validate rejects critBefore not below warnBefore", async () => {
  await withConfig("warnBefore: 336h\ncritBefore: 720h\n", async (path) => {
    const run = await runTrustwatch(["validate", path]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /:2: critBefore: 720h must be shorter than warnBefore \(336h\)/);
  });
});

Deno.test("validate rejects a refreshEvery under 30s and a bad URL", async () => {
  await withConfig("refreshEvery: 10s\n", async (path) => {
    const run = await runTrustwatch(["validate", path]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /:1: refreshEvery: 10s is too short; use at least 30s/);
  });
  await withConfig("remotes:\n  - name: eu\n    url: not a url\n", async (path) => {
    const run = await runTrustwatch(["validate", path]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /:3: remotes\[0\]\.url: "not a url" is not a URL/);
  });
});

Deno.test("validate exits 1 for a missing file", async () => {
  const run = await runTrustwatch(["validate", "/nonexistent/trustwatch.yaml"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /\/nonexistent\/trustwatch\.yaml: \(file\): file not found/);
});

Deno.test("rules prints a PrometheusRule with every alert", async () => {
  const run = await runTrustwatch([
    "rules",
    "--name",
    "trustwatch-alerts",
    "--namespace",
    "observability",
    "--labels",
    "release=kube-prometheus-stack,team=platform",
    "--warn-before",
    "1080h",
    "--crit-before",
    "168h",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rule = parse(run.stdout) as PrometheusRule;
  assert.equal(rule.apiVersion, "monitoring.coreos.com/v1");
  assert.equal(rule.kind, "PrometheusRule");
  assert.deepEqual(rule.metadata, {
    name: "trustwatch-alerts",
    namespace: "observability",
    labels: { release: "kube-prometheus-stack", team: "platform" },
  });
  const alerts = rule.spec.groups[0].rules;
  assert.deepEqual(alerts.map((alert) => alert.alert), [
    "TrustwatchCertExpiringSoon",
    "TrustwatchCertExpiryCritical",
    "TrustwatchCertExpired",
    "TrustwatchProbeFailed",
    "TrustwatchDiscoveryErrors",
    "TrustwatchScanStale",
  ]);
  for (const alert of alerts) {
    assert.ok(alert.annotations.summary, `${alert.alert} summary`);
    assert.ok(alert.annotations.description, `${alert.alert} description`);
    assert.ok(alert.annotations.runbook, `${alert.alert} runbook`);
  }
  assert.equal(
    alerts[0].expr,
    'trustwatch_cert_expires_in_seconds{severity=~"warn|critical"} <= 3888000 unless ' +
      'trustwatch_cert_expires_in_seconds{severity="critical"} <= 604800',
  );
});

Deno.test("rules reads thresholds from the config file", async () => {
  await withConfig("warnBefore: 480h\ncritBefore: 120h\nrefreshEvery: 5m\n", async (path) => {
    const run = await runTrustwatch(["rules", "--config", path]);
    assert.equal(run.code, 0, run.stderr);
    const alerts = (parse(run.stdout) as PrometheusRule).spec.groups[0].rules;
    assert.match(alerts[0].expr, /<= 1728000 unless .* <= 432000$/);
    assert.equal(
      alerts.find((alert) => alert.alert === "TrustwatchScanStale")!.expr,
      "time() - trustwatch_last_scan_timestamp_seconds > 600",
    );
  });
});

Deno.test("rules rejects invalid labels and thresholds", async () => {
  const badLabels = await runTrustwatch(["rules", "--labels", "release"]);
  assert.equal(badLabels.code, 3);
  assert.match(badLabels.stderr, /invalid label "release": expected key=value/);

  const crossed = await runTrustwatch(["rules", "--warn-before", "24h", "--crit-before", "48h"]);
  assert.equal(crossed.code, 3);
  assert.match(crossed.stderr, /--crit-before \(48h\) must be shorter than --warn-before \(24h\)/);
});

Deno.test("rules rejects names Kubernetes would reject", async () => {
  const badName = await runTrustwatch(["rules", "--name", "Bad_Name"]);
  assert.equal(badName.code, 3);
  assert.match(badName.stderr, /invalid --name "Bad_Name": Kubernetes would reject it/);

  const emptyNamespace = await runTrustwatch(["rules", "--namespace", ""]);
  assert.equal(emptyNamespace.code, 3);
  assert.match(emptyNamespace.stderr, /invalid --namespace "": Kubernetes would reject it/);

  const dotted = await runTrustwatch(["rules", "--name", "trustwatch.certs"]);
  assert.equal(dotted.code, 0, dotted.stderr);
});
