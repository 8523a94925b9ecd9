import assert from "node:assert/strict";
import {
  compareFindings,
  exitCodeFor,
  type Finding,
  type Snapshot,
  ZERO_TIME,
} from "../../core/model.ts";

function finding(severity: Finding["severity"], extra: Partial<Finding> = {}): Finding {
  return { source: "k8s.tlsSecret", severity, probeOk: true, notAfter: ZERO_TIME, ...extra };
}

function snapshot(findings: Finding[], errors = 0): Snapshot {
  return {
    at: "2026-06-01T00:00:00Z",
    findings,
    errors: Array.from(
      { length: errors },
      () => ({ source: "k8s.webhook" as const, message: "403" }),
    ),
  };
}

Deno.test("exitCodeFor follows 2 over 3 over 1 over 0", () => {
  assert.equal(exitCodeFor(snapshot([finding("info")])), 0);
  assert.equal(exitCodeFor(snapshot([finding("info"), finding("warn")])), 1);
  assert.equal(exitCodeFor(snapshot([finding("warn")], 1)), 3);
  assert.equal(
    exitCodeFor(snapshot([finding("warn", { findingType: "PROBE_FAILED", probeOk: false })])),
    3,
  );
  assert.equal(exitCodeFor(snapshot([finding("critical"), finding("warn")], 1)), 2);
  assert.equal(exitCodeFor(snapshot([])), 0);
});

Deno.test("compareFindings sorts by severity, then expiry, then name", () => {
  const sorted = [
    finding("warn", { name: "b", notAfter: "2026-07-01T00:00:00Z" }),
    finding("info", { name: "a" }),
    finding("critical", { name: "z", notAfter: "2026-05-01T00:00:00Z" }),
    finding("warn", { name: "a", notAfter: "2026-06-15T00:00:00Z" }),
  ].sort(compareFindings);
  assert.deepEqual(sorted.map((entry) => entry.name), ["z", "a", "b", "a"]);
});
