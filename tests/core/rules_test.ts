import assert from "node:assert/strict";
import { buildPrometheusRule, parseLabelList, RULE_GROUP_NAME } from "../../core/rules.ts";

const HOUR_MS = 3_600_000;

Deno.test("buildPrometheusRule uses the thresholds in seconds", () => {
  const rule = buildPrometheusRule({
    warnBeforeMs: 720 * HOUR_MS,
    critBeforeMs: 336 * HOUR_MS,
    refreshEveryMs: 120_000,
  });
  assert.deepEqual(rule.metadata, { name: "trustwatch", namespace: "monitoring" });
  assert.equal(rule.spec.groups[0].name, RULE_GROUP_NAME);
  const expressions = Object.fromEntries(
    rule.spec.groups[0].rules.map((alert) => [alert.alert, alert.expr]),
  );
  assert.deepEqual(expressions, {
    TrustwatchCertExpiringSoon:
      'trustwatch_cert_expires_in_seconds{severity=~"warn|critical"} <= 2592000 unless ' +
      'trustwatch_cert_expires_in_seconds{severity="critical"} <= 1209600',
    TrustwatchCertExpiryCritical:
      'trustwatch_cert_expires_in_seconds{severity="critical"} > 0 and ' +
      'trustwatch_cert_expires_in_seconds{severity="critical"} <= 1209600',
    TrustwatchCertExpired: 'trustwatch_cert_expires_in_seconds{severity="critical"} <= 0',
    TrustwatchProbeFailed: "trustwatch_probe_success == 0",
    TrustwatchDiscoveryErrors: "increase(trustwatch_discovery_errors_total[600s]) > 0",
    TrustwatchScanStale: "time() - trustwatch_last_scan_timestamp_seconds > 240",
  });
});

Deno.test("buildPrometheusRule widens the discovery window for slow refreshes", () => {
  const rule = buildPrometheusRule({
    warnBeforeMs: 720 * HOUR_MS,
    critBeforeMs: 336 * HOUR_MS,
    refreshEveryMs: 10 * 60_000,
  });
  const discovery = rule.spec.groups[0].rules.find((alert) =>
    alert.alert === "TrustwatchDiscoveryErrors"
  )!;
  assert.equal(discovery.expr, "increase(trustwatch_discovery_errors_total[1800s]) > 0");
});

Deno.test("buildPrometheusRule rejects overlapping windows", () => {
  assert.throws(
    () =>
      buildPrometheusRule({
        warnBeforeMs: HOUR_MS,
        critBeforeMs: HOUR_MS,
        refreshEveryMs: 120_000,
      }),
    /critical window must be shorter than the warning window/,
  );
});

Deno.test("parseLabelList reads key=value pairs", () => {
  assert.deepEqual(parseLabelList("release=kube-prometheus-stack, app.kubernetes.io/part-of=obs"), {
    release: "kube-prometheus-stack",
    "app.kubernetes.io/part-of": "obs",
  });
  assert.deepEqual(parseLabelList("empty="), { empty: "" });
});

Deno.test("parseLabelList rejects malformed entries", () => {
  for (const text of ["release", "=x", "bad key=x", "k=white space", "k=-leading"]) {
    assert.throws(() => parseLabelList(text), /invalid label/, text);
  }
});
