/**
 * Checks the alerting rules of `trustwatch rules` with Prometheus' own `promtool`: the rule group
 * must load, and each alert must fire on series shaped like trustwatch's metrics and stay silent
 * on healthy ones. Rule and test files are generated in a temporary directory.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import type { AlertingRule, PrometheusRule } from "../../core/rules.ts";
import { runTrustwatch } from "../support/cli.ts";

const PROMTOOL = "/usr/bin/promtool";
const promtoolMissing = !(await Deno.stat(PROMTOOL).then(() => true).catch(() => false));
if (promtoolMissing) {
  console.log(
    `skipping promtool tests: ${PROMTOOL} not found (install Debian's prometheus package)`,
  );
}

const WARN_SECONDS = 720 * 3600;
const CRIT_SECONDS = 336 * 3600;
const DAY_SECONDS = 86_400;

async function generatedRuleGroup(): Promise<{ dir: string; rule: PrometheusRule }> {
  const run = await runTrustwatch([
    "rules",
    "--warn-before",
    "720h",
    "--crit-before",
    "336h",
    "--refresh-every",
    "2m",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rule = parse(run.stdout) as PrometheusRule;
  const dir = await Deno.makeTempDir({ prefix: "trustwatch-promtool-" });
  await Deno.writeTextFile(`${dir}/rules.yaml`, stringify(rule.spec));
  return { dir, rule };
}

async function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(PROMTOOL, { args, cwd }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

function certSeries(
  name: string,
  severity: string,
  values: string,
): { series: string; values: string } {
  return {
    series: `trustwatch_cert_expires_in_seconds{source="k8s.tlsSecret",namespace="payments",` +
      `name="${name}",severity="${severity}",cluster="prod"}`,
    values,
  };
}

function certLabels(name: string, alertSeverity: string) {
  return {
    source: "k8s.tlsSecret",
    namespace: "payments",
    name,
    cluster: "prod",
    severity: alertSeverity,
  };
}

Deno.test({
  name: "promtool accepts the generated rule group",
  ignore: promtoolMissing,
  fn: async () => {
    const { dir } = await generatedRuleGroup();
    try {
      const check = await promtool(["check", "rules", "rules.yaml"], dir);
      assert.equal(check.code, 0, check.output);
      assert.match(check.output, /SUCCESS: 6 rules found/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "promtool unit tests fire each alert",
  ignore: promtoolMissing,
  fn: async () => {
    const { dir, rule } = await generatedRuleGroup();
    const rules = new Map<string, AlertingRule>(
      rule.spec.groups[0].rules.map((alert) => [alert.alert, alert]),
    );
    const annotations = (alert: string, description: string) => ({
      summary: rules.get(alert)!.annotations.summary,
      description,
      runbook: rules.get(alert)!.annotations.runbook,
    });
    const where = (name: string) => `k8s.tlsSecret payments/${name} in cluster prod`;

    const firing = {
      interval: "1m",
      input_series: [
        certSeries("checkout-tls", "warn", `${20 * DAY_SECONDS}x40`),
        certSeries("ledger-tls", "critical", `${7 * DAY_SECONDS}x40`),
        certSeries("grafana-tls", "critical", `${-10 * DAY_SECONDS}x40`),
        certSeries("api-tls", "info", `${200 * DAY_SECONDS}x40`),
        {
          series: 'trustwatch_probe_success{source="k8s.webhook",namespace="kyverno",' +
            'name="kyverno-svc",cluster="prod"}',
          values: "0x40",
        },
        {
          series: 'trustwatch_probe_success{source="k8s.tlsSecret",namespace="payments",' +
            'name="api-tls",cluster="prod"}',
          values: "1x40",
        },
        { series: 'trustwatch_discovery_errors_total{source="k8s.webhook"}', values: "0+1x40" },
        { series: 'trustwatch_discovery_errors_total{source="k8s.tlsSecret"}', values: "0x40" },
        { series: 'trustwatch_last_scan_timestamp_seconds{instance="stuck"}', values: "0x40" },
        { series: 'trustwatch_last_scan_timestamp_seconds{instance="fresh"}', values: "0+60x40" },
      ],
      alert_rule_test: [
        {
          eval_time: "2m",
          alertname: "TrustwatchCertExpired",
          exp_alerts: [{
            exp_labels: certLabels("grafana-tls", "critical"),
            exp_annotations: annotations(
              "TrustwatchCertExpired",
              `The certificate of ${
                where("grafana-tls")
              } has expired; clients that verify it fail.`,
            ),
          }],
        },
        { eval_time: "2m", alertname: "TrustwatchCertExpiringSoon", exp_alerts: [] },
        {
          eval_time: "10m",
          alertname: "TrustwatchCertExpiringSoon",
          exp_alerts: [{
            exp_labels: certLabels("checkout-tls", "warning"),
            exp_annotations: annotations(
              "TrustwatchCertExpiringSoon",
              `The certificate of ${where("checkout-tls")} expires in 20d 0h 0m 0s; ` +
                "trustwatch rates it warn.",
            ),
          }],
        },
        {
          eval_time: "10m",
          alertname: "TrustwatchCertExpiryCritical",
          exp_alerts: [{
            exp_labels: certLabels("ledger-tls", "critical"),
            exp_annotations: annotations(
              "TrustwatchCertExpiryCritical",
              `The certificate of ${where("ledger-tls")} expires in 7d 0h 0m 0s.`,
            ),
          }],
        },
        { eval_time: "5m", alertname: "TrustwatchProbeFailed", exp_alerts: [] },
        {
          eval_time: "15m",
          alertname: "TrustwatchProbeFailed",
          exp_alerts: [{
            exp_labels: {
              source: "k8s.webhook",
              namespace: "kyverno",
              name: "kyverno-svc",
              cluster: "prod",
              severity: "warning",
            },
            exp_annotations: annotations(
              "TrustwatchProbeFailed",
              "trustwatch could not read the certificate of k8s.webhook kyverno/kyverno-svc in " +
                "cluster prod: the endpoint is unreachable, the handshake failed, or the Secret " +
                "is missing or not a certificate.",
            ),
          }],
        },
        {
          eval_time: "30m",
          alertname: "TrustwatchDiscoveryErrors",
          exp_alerts: [{
            exp_labels: { source: "k8s.webhook", severity: "warning" },
            exp_annotations: annotations(
              "TrustwatchDiscoveryErrors",
              "Discovery of k8s.webhook has failed in recent scans; the certificates it finds " +
                "are not being checked.",
            ),
          }],
        },
        {
          eval_time: "30m",
          alertname: "TrustwatchScanStale",
          exp_alerts: [{
            exp_labels: { instance: "stuck", severity: "warning" },
            exp_annotations: annotations(
              "TrustwatchScanStale",
              "The last completed scan is 30m 0s old, more than twice the refresh interval; " +
                "certificate metrics are out of date.",
            ),
          }],
        },
      ],
    };

    const healthy = {
      interval: "1m",
      input_series: [
        certSeries("api-tls", "info", `${200 * DAY_SECONDS}x40`),
        certSeries("edge-tls", "info", `${WARN_SECONDS + 3600}x40`),
        {
          series: 'trustwatch_probe_success{source="k8s.tlsSecret",namespace="payments",' +
            'name="api-tls",cluster="prod"}',
          values: "1x40",
        },
        { series: 'trustwatch_discovery_errors_total{source="k8s.webhook"}', values: "3x40" },
        { series: "trustwatch_last_scan_timestamp_seconds", values: "0+60x40" },
      ],
      alert_rule_test: [...rules.keys()].map((alertname) => ({
        eval_time: "30m",
        alertname,
        exp_alerts: [],
      })),
    };

    const thresholdEdges = {
      interval: "1m",
      input_series: [
        certSeries("at-warn", "warn", `${WARN_SECONDS}x20`),
        certSeries("at-crit", "critical", `${CRIT_SECONDS}x20`),
      ],
      alert_rule_test: [
        {
          eval_time: "10m",
          alertname: "TrustwatchCertExpiringSoon",
          exp_alerts: [{
            exp_labels: certLabels("at-warn", "warning"),
            exp_annotations: annotations(
              "TrustwatchCertExpiringSoon",
              `The certificate of ${where("at-warn")} expires in 30d 0h 0m 0s; ` +
                "trustwatch rates it warn.",
            ),
          }],
        },
        {
          eval_time: "10m",
          alertname: "TrustwatchCertExpiryCritical",
          exp_alerts: [{
            exp_labels: certLabels("at-crit", "critical"),
            exp_annotations: annotations(
              "TrustwatchCertExpiryCritical",
              `The certificate of ${where("at-crit")} expires in 14d 0h 0m 0s.`,
            ),
          }],
        },
      ],
    };

    // The expiry alerts follow trustwatch's severity label: a CA superseded in its bundle and a
    // webhook with failurePolicy Ignore are warn, a cert-manager managed expiry and an
    // overridden finding are info, and none of them may page.
    const severityLabel = {
      interval: "1m",
      input_series: [
        certSeries("payments-ca", "warn", "-432012x20"),
        certSeries("payments-ca", "info", `${3650 * DAY_SECONDS}x20`),
        certSeries("managed-tls", "info", `${7 * DAY_SECONDS}x20`),
        certSeries("overridden-tls", "info", `${-DAY_SECONDS}x20`),
        certSeries("ignore-webhook", "warn", `${3 * DAY_SECONDS}x20`),
        certSeries("untrusted-webhook", "critical", `${20 * DAY_SECONDS}x20`),
        certSeries("untrusted-far", "critical", `${200 * DAY_SECONDS}x20`),
      ],
      alert_rule_test: [
        { eval_time: "2m", alertname: "TrustwatchCertExpired", exp_alerts: [] },
        { eval_time: "10m", alertname: "TrustwatchCertExpired", exp_alerts: [] },
        { eval_time: "10m", alertname: "TrustwatchCertExpiryCritical", exp_alerts: [] },
        {
          eval_time: "10m",
          alertname: "TrustwatchCertExpiringSoon",
          exp_alerts: [
            {
              exp_labels: certLabels("payments-ca", "warning"),
              exp_annotations: annotations(
                "TrustwatchCertExpiringSoon",
                `The certificate of ${where("payments-ca")} expired 5d 0h 0m 12s ago; ` +
                  "trustwatch rates it warn.",
              ),
            },
            {
              exp_labels: certLabels("ignore-webhook", "warning"),
              exp_annotations: annotations(
                "TrustwatchCertExpiringSoon",
                `The certificate of ${where("ignore-webhook")} expires in 3d 0h 0m 0s; ` +
                  "trustwatch rates it warn.",
              ),
            },
            {
              exp_labels: certLabels("untrusted-webhook", "warning"),
              exp_annotations: annotations(
                "TrustwatchCertExpiringSoon",
                `The certificate of ${where("untrusted-webhook")} expires in 20d 0h 0m 0s; ` +
                  "trustwatch rates it critical.",
              ),
            },
          ],
        },
      ],
    };

    const testFile = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [firing, healthy, thresholdEdges, severityLabel],
    };
    await Deno.writeTextFile(`${dir}/rules_test.yaml`, stringify(testFile, { lineWidth: 0 }));
    try {
      const result = await promtool(["test", "rules", "rules_test.yaml"], dir);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /SUCCESS/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
