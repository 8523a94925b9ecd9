/**
 * A real Prometheus (Debian's `prometheus` package) scrapes a running `serve` against the demo
 * sandbox and evaluates the rules of `trustwatch rules`: the expired-certificate alert must fire.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import type { PrometheusRule } from "../../core/rules.ts";
import { runTrustwatch } from "../support/cli.ts";
import { freePort } from "../sandbox/server.ts";
import { startDemoCluster, startServe, waitFor } from "../server/_serve_process.ts";

const PROMETHEUS = "/usr/bin/prometheus";
const prometheusMissing = !(await Deno.stat(PROMETHEUS).then(() => true).catch(() => false));
if (prometheusMissing) {
  console.log(
    `skipping Prometheus test: ${PROMETHEUS} not found (install Debian's prometheus package)`,
  );
}
/** Bound on the wait for the alert: start-up, a few 1 s scrapes and rule evaluations. */
const ALERT_TIMEOUT_MS = 90_000;

interface AlertsResponse {
  data: { alerts: { labels: Record<string, string>; state: string }[] };
}

Deno.test({
  name: "Prometheus fires TrustwatchCertExpired from serve",
  ignore: prometheusMissing,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "trustwatch-prometheus-" });
    const cluster = await startDemoCluster({ configText: "clusterName: demo\n" });
    const serve = await startServe(cluster.args);
    let prometheus: Deno.ChildProcess | undefined;
    let prometheusLog = "";
    try {
      const rules = await runTrustwatch(["rules"]);
      assert.equal(rules.code, 0, rules.stderr);
      await Deno.writeTextFile(
        `${dir}/rules.yaml`,
        stringify((parse(rules.stdout) as PrometheusRule).spec),
      );
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        stringify({
          global: { scrape_interval: "1s", evaluation_interval: "1s" },
          rule_files: ["rules.yaml"],
          scrape_configs: [{
            job_name: "trustwatch",
            static_configs: [{ targets: [`127.0.0.1:${serve.port}`] }],
          }],
        }),
      );

      const port = await freePort();
      prometheus = new Deno.Command(PROMETHEUS, {
        args: [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        cwd: dir,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = prometheus.stderr.pipeThrough(new TextDecoderStream());
      (async () => {
        for await (const text of stderr) prometheusLog += text;
      })().catch(() => {});

      const api = `http://127.0.0.1:${port}/api/v1`;
      let alerts: AlertsResponse["data"]["alerts"] = [];
      try {
        await waitFor("TrustwatchCertExpired to fire", async () => {
          const response = await fetch(`${api}/alerts`);
          if (!response.ok) {
            await response.body?.cancel();
            return undefined;
          }
          alerts = ((await response.json()) as AlertsResponse).data.alerts;
          return alerts.some((alert) =>
              alert.labels.alertname === "TrustwatchCertExpired" && alert.state === "firing"
            )
            ? true
            : undefined;
        }, ALERT_TIMEOUT_MS);
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\nalerts: ${JSON.stringify(alerts)}\n` +
            `prometheus log:\n${prometheusLog}`,
        );
      }

      const expired = alerts
        .filter((alert) => alert.labels.alertname === "TrustwatchCertExpired")
        .map((alert) => `${alert.state} ${alert.labels.namespace}/${alert.labels.name}`)
        .sort();
      assert.deepEqual(expired, [
        "firing kyverno/kyverno-resource-mutating-webhook-cfg/mutate.kyverno.svc-fail",
        "firing monitoring/grafana-tls",
      ]);
      const grafana = alerts.find((alert) =>
        alert.labels.alertname === "TrustwatchCertExpired" && alert.labels.name === "grafana-tls"
      )!;
      assert.equal(grafana.labels.cluster, "demo");
      assert.equal(grafana.labels.severity, "critical");
      assert.equal(grafana.labels.job, "trustwatch");

      // The expiry-window alerts wait out their `for:` of 5 minutes, so they are pending here.
      const critical = alerts.find((alert) =>
        alert.labels.alertname === "TrustwatchCertExpiryCritical" &&
        alert.labels.name === "ledger-tls"
      );
      assert.equal(critical?.state, "pending");
    } finally {
      if (prometheus) {
        try {
          prometheus.kill("SIGTERM");
        } catch {
          // Already exited.
        }
        await prometheus.status;
      }
      await serve.stop();
      await cluster.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
