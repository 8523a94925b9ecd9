import assert from "node:assert/strict";
import type { Assessment, Problem } from "../../core/analyze.ts";
import { classify } from "../../core/classify.ts";
import { ZERO_TIME } from "../../core/model.ts";
import type { EndpointTarget, MaterialTarget } from "../../core/target.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const AT = new Date("2026-06-01T00:00:00Z");
const THRESHOLDS = { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS };

const webhookFail: EndpointTarget = {
  kind: "endpoint",
  source: "k8s.webhook",
  name: "hooks/validate.example.com",
  failClosed: true,
  endpoint: { host: "hook.payments.svc", port: 443 },
  expectedNames: ["hook.payments.svc"],
  trust: { kind: "system" },
  ref: { resource: "validatingwebhookconfiguration", name: "hooks" },
};
const webhookIgnore: EndpointTarget = { ...webhookFail, failClosed: false, severityCap: "warn" };
const secret: MaterialTarget = {
  kind: "material",
  source: "k8s.tlsSecret",
  namespace: "payments",
  name: "api-tls",
  failClosed: false,
  objectLabel: "secret payments/api-tls",
  key: "tls.crt",
  bytes: new Uint8Array(),
  ref: { resource: "secret", namespace: "payments", name: "api-tls" },
};

function assessment(
  target: EndpointTarget | MaterialTarget,
  options: { daysLeft?: number; problems?: Problem[]; supersededBy?: string },
): Assessment {
  const notAfter = options.daysLeft === undefined
    ? undefined
    : new Date(AT.getTime() + options.daysLeft * DAY_MS);
  return {
    target,
    finding: {
      source: target.source,
      name: target.name,
      probeOk: options.daysLeft !== undefined,
      notAfter: notAfter?.toISOString() ?? ZERO_TIME,
    },
    problems: options.problems ?? [],
    notAfter,
    supersededBy: options.supersededBy,
  };
}

Deno.test("classify keeps a healthy fail-closed surface at info", () => {
  const finding = classify(assessment(webhookFail, { daysLeft: 200 }), THRESHOLDS, AT);
  assert.equal(finding.severity, "info");
  assert.equal(finding.findingType, undefined);
  assert.equal(finding.remediation, undefined);
});

Deno.test("classify maps expiry windows to severities", () => {
  const cases: [number, string, string | undefined][] = [
    [-1, "critical", "EXPIRED"],
    [0.5, "critical", "EXPIRING"],
    [13, "critical", "EXPIRING"],
    [20, "warn", "EXPIRING"],
    [31, "info", undefined],
  ];
  for (const [daysLeft, severity, findingType] of cases) {
    const finding = classify(assessment(secret, { daysLeft }), THRESHOLDS, AT);
    assert.equal(finding.severity, severity, `${daysLeft} days left`);
    assert.equal(finding.findingType, findingType, `${daysLeft} days left`);
  }
});

Deno.test("classify makes an unreachable fail-closed webhook critical", () => {
  const problems: Problem[] = [{ type: "PROBE_FAILED", message: "connection refused" }];
  const finding = classify(assessment(webhookFail, { problems }), THRESHOLDS, AT);
  assert.equal(finding.severity, "critical");
  assert.equal(finding.findingType, "PROBE_FAILED");
  assert.match(
    finding.remediation ?? "",
    /service payments\/hook .* port 443: kubectl get endpointslices -n payments/,
  );
});

Deno.test("classify caps a webhook with Ignore policy at warn", () => {
  const expired = classify(assessment(webhookIgnore, { daysLeft: -3 }), THRESHOLDS, AT);
  assert.equal(expired.severity, "warn");
  assert.equal(expired.findingType, "EXPIRED");
  const unreachable = classify(
    assessment(webhookIgnore, { problems: [{ type: "PROBE_FAILED", message: "timed out" }] }),
    THRESHOLDS,
    AT,
  );
  assert.equal(unreachable.severity, "warn");
});

Deno.test("classify makes trust problems warn on surfaces that are not fail-closed", () => {
  const problems: Problem[] = [{ type: "NAME_MISMATCH", message: "shop.example.com not covered" }];
  const finding = classify(assessment(secret, { daysLeft: 100, problems }), THRESHOLDS, AT);
  assert.equal(finding.severity, "warn");
  assert.equal(finding.findingType, "NAME_MISMATCH");
});

Deno.test("classify lets expiry outrank a lesser problem", () => {
  const problems: Problem[] = [{ type: "INSECURE_SKIP_VERIFY", message: "skips verification" }];
  const finding = classify(assessment(webhookFail, { daysLeft: -1, problems }), THRESHOLDS, AT);
  assert.equal(finding.severity, "critical");
  assert.equal(finding.findingType, "EXPIRED");
  assert.match(finding.notes ?? "", /skips verification/);
});

Deno.test("classify reports insecureSkipTLSVerify as warn", () => {
  const problems: Problem[] = [{ type: "INSECURE_SKIP_VERIFY", message: "skips verification" }];
  const finding = classify(assessment(webhookFail, { daysLeft: 100, problems }), THRESHOLDS, AT);
  assert.equal(finding.severity, "warn");
  assert.equal(finding.findingType, "INSECURE_SKIP_VERIFY");
});

Deno.test("classify makes TLS 1.0 critical everywhere", () => {
  const problems: Problem[] = [{ type: "WEAK_TLS_VERSION", message: "TLS 1.0" }];
  const finding = classify(assessment(secret, { daysLeft: 100, problems }), THRESHOLDS, AT);
  assert.equal(finding.severity, "critical");
});

Deno.test("classify reports a superseded expired CA as warn", () => {
  const finding = classify(
    assessment(secret, { daysLeft: -10, supersededBy: "0A" }),
    THRESHOLDS,
    AT,
  );
  assert.equal(finding.severity, "warn");
  assert.equal(finding.findingType, "SUPERSEDED_CA");
});

Deno.test("classify applies a severity override only to problems", () => {
  const overridden: MaterialTarget = { ...secret, severityOverride: "critical" };
  assert.equal(
    classify(assessment(overridden, { daysLeft: 20 }), THRESHOLDS, AT).severity,
    "critical",
  );
  assert.equal(
    classify(assessment(overridden, { daysLeft: 200 }), THRESHOLDS, AT).severity,
    "info",
  );
});

Deno.test("classify keeps healthy results at info despite an override", () => {
  const overridden: MaterialTarget = { ...secret, severityOverride: "critical" };
  const renewing: Problem[] = [{
    type: "RENEWAL_STALLED",
    message: "CertificateRequest payments/api-tls-1 pending",
    since: new Date(AT.getTime() - 10 * 60_000),
  }];
  const finding = classify(
    assessment(overridden, { daysLeft: 200, problems: renewing }),
    THRESHOLDS,
    AT,
  );
  assert.equal(finding.severity, "info");
});
