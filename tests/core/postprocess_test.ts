import assert from "node:assert/strict";
import type { Assessment } from "../../core/analyze.ts";
import { classify } from "../../core/classify.ts";
import { postProcess } from "../../core/postprocess.ts";
import { secretOf } from "../../core/target.ts";
import type { EndpointTarget, MaterialTarget } from "../../core/target.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const AT = new Date("2026-06-01T00:00:00Z");
const THRESHOLDS = { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS };

function days(count: number): Date {
  return new Date(AT.getTime() + count * DAY_MS);
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function certManagerTarget(status: MaterialTarget["certificateStatus"]): MaterialTarget {
  return {
    kind: "material",
    source: "certmanager",
    namespace: "shop",
    name: "shop",
    failClosed: false,
    objectLabel: "secret shop/shop-tls",
    key: "tls.crt",
    bytes: new Uint8Array(),
    secretRef: { namespace: "shop", name: "shop-tls" },
    certificateRef: { namespace: "shop", name: "shop" },
    certificateStatus: status,
  };
}

const tlsSecretTarget: MaterialTarget = {
  kind: "material",
  source: "k8s.tlsSecret",
  namespace: "shop",
  name: "shop-tls",
  failClosed: false,
  objectLabel: "secret shop/shop-tls",
  key: "tls.crt",
  bytes: new Uint8Array(),
  ref: { resource: "secret", namespace: "shop", name: "shop-tls" },
};

function assessment(target: Assessment["target"], notAfter: Date, serial = "0A"): Assessment {
  return {
    target,
    finding: {
      source: target.source,
      name: target.name,
      probeOk: true,
      notAfter: rfc3339(notAfter),
      serial,
    },
    problems: [],
    notAfter,
  };
}

function run(assessments: Assessment[]) {
  return postProcess(
    assessments.map((entry) => ({ assessment: entry, finding: classify(entry, THRESHOLDS, AT) })),
    THRESHOLDS,
    AT,
  );
}

Deno.test("postprocess marks renewed Secret as managed expiry", () => {
  const notAfter = days(10);
  const findings = run([
    assessment(certManagerTarget({ ready: "True", notAfter, renewalTime: days(2) }), notAfter),
    assessment(tlsSecretTarget, notAfter),
  ]);
  assert.deepEqual(
    findings.map((finding) => [finding.source, finding.severity, finding.findingType]),
    [
      ["certmanager", "info", "MANAGED_EXPIRY"],
      ["k8s.tlsSecret", "info", "MANAGED_EXPIRY"],
    ],
  );
});

Deno.test("postprocess keeps expiry when renewal time passed", () => {
  const notAfter = days(10);
  const findings = run([
    assessment(certManagerTarget({ ready: "True", notAfter, renewalTime: days(-1) }), notAfter),
    assessment(tlsSecretTarget, notAfter),
  ]);
  assert.deepEqual(findings.map((finding) => finding.findingType), ["EXPIRING", "EXPIRING"]);
  assert.deepEqual(findings.map((finding) => finding.severity), ["critical", "critical"]);
});

Deno.test("postprocess keeps expiry of another certificate", () => {
  const findings = run([
    assessment(
      certManagerTarget({ ready: "True", notAfter: days(80), renewalTime: days(50) }),
      days(80),
    ),
    assessment(tlsSecretTarget, days(20)),
  ]);
  assert.equal(
    findings[1].findingType,
    "EXPIRING",
    "an intermediate in the same Secret is not renewed",
  );
  assert.equal(findings[1].severity, "warn");
});

Deno.test("postprocess Ready Certificate with expired Secret", () => {
  const findings = run([
    assessment(
      certManagerTarget({ ready: "True", notAfter: days(-3), renewalTime: days(-33) }),
      days(-3),
    ),
  ]);
  assert.equal(findings[0].severity, "critical");
  assert.equal(findings[0].findingType, "EXPIRED");
  assert.match(
    findings[0].notes ?? "",
    /Certificate shop\/shop reports Ready=True, but the certificate in secret shop\/shop-tls expired/,
  );
});

Deno.test("postprocess reports served serial differing from Secret", () => {
  const target: EndpointTarget = {
    kind: "endpoint",
    source: "annotation",
    namespace: "shop",
    name: "api",
    failClosed: false,
    endpoint: { host: "10.0.0.7", port: 8443 },
    expectedNames: [],
    trust: { kind: "unknown" },
    secretRef: { namespace: "shop", name: "api-tls" },
    ref: { resource: "deployment", namespace: "shop", name: "api" },
  };
  const stale = {
    ...assessment(target, days(40), "01"),
    storedLeaf: { serial: "02", notAfter: days(89) },
  };
  stale.finding.target = "10.0.0.7:8443";
  const current = {
    ...assessment(target, days(89), "02"),
    storedLeaf: { serial: "02", notAfter: days(89) },
  };
  const [staleFinding, currentFinding] = run([stale, current]);
  assert.equal(staleFinding.findingType, "STALE_SERVING_CERT");
  assert.equal(staleFinding.severity, "warn");
  assert.match(
    staleFinding.notes ?? "",
    /serves serial 01 .* secret shop\/api-tls holds serial 02/,
  );
  assert.match(staleFinding.remediation ?? "", /kubectl rollout restart deployment api -n shop/);
  assert.equal(currentFinding.severity, "info");
});

Deno.test("postprocess reads the Secret of each target kind", () => {
  assert.deepEqual(secretOf(tlsSecretTarget), { namespace: "shop", name: "shop-tls" });
  assert.deepEqual(
    secretOf({
      ...tlsSecretTarget,
      source: "k8s.ingressTLS",
      ref: undefined,
      objectLabel: "secret web/site-tls",
    }),
    { namespace: "web", name: "site-tls" },
  );
});
