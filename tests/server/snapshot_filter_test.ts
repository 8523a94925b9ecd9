import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { FilterError, filterSnapshot, parseSnapshotFilter } from "../../server/snapshot_filter.ts";

const snapshot: Snapshot = {
  at: "2030-01-01T00:00:00Z",
  errors: [
    { source: "k8s.webhook", message: "forbidden" },
    { source: "k8s.tlsSecret", message: "timed out" },
  ],
  findings: [
    {
      source: "k8s.tlsSecret",
      severity: "critical",
      probeOk: true,
      notAfter: "x",
      namespace: "payments",
      name: "a",
    },
    {
      source: "k8s.tlsSecret",
      severity: "warn",
      probeOk: true,
      notAfter: "x",
      namespace: "monitoring",
      name: "b",
    },
    {
      source: "k8s.webhook",
      severity: "critical",
      probeOk: true,
      notAfter: "x",
      namespace: "kyverno",
      name: "c",
    },
    { source: "external", severity: "info", probeOk: true, notAfter: "x", name: "d" },
  ],
};

function namesFor(query: string): string[] {
  const filtered = filterSnapshot(snapshot, parseSnapshotFilter(new URLSearchParams(query)));
  return filtered.findings.map((finding: Finding) => finding.name!);
}

Deno.test("snapshot filter without parameters keeps everything", () => {
  assert.deepEqual(
    filterSnapshot(snapshot, parseSnapshotFilter(new URLSearchParams(""))),
    snapshot,
  );
  assert.deepEqual(namesFor("severity="), ["a", "b", "c", "d"]);
});

Deno.test("snapshot filter takes comma-separated values", () => {
  assert.deepEqual(namesFor("severity=critical"), ["a", "c"]);
  assert.deepEqual(namesFor("severity=critical,warn"), ["a", "b", "c"]);
  assert.deepEqual(namesFor("source=k8s.webhook,external"), ["c", "d"]);
  assert.deepEqual(namesFor("namespace=payments,kyverno"), ["a", "c"]);
  assert.deepEqual(namesFor("severity=critical&severity=warn"), ["a", "b", "c"]);
});

Deno.test("snapshot filter combines parameters with and", () => {
  assert.deepEqual(namesFor("source=k8s.tlsSecret&severity=critical"), ["a"]);
  assert.deepEqual(namesFor("source=k8s.tlsSecret&namespace=kyverno"), []);
});

Deno.test("snapshot filter keeps errors of matching sources", () => {
  const filtered = filterSnapshot(
    snapshot,
    parseSnapshotFilter(new URLSearchParams("source=k8s.webhook")),
  );
  assert.deepEqual(filtered.errors, [{ source: "k8s.webhook", message: "forbidden" }]);
  assert.equal(filtered.at, snapshot.at);
});

Deno.test("snapshot filter rejects unknown values", () => {
  assert.throws(
    () => parseSnapshotFilter(new URLSearchParams("severity=high")),
    new FilterError('invalid severity "high"; expected one or more of critical, warn, info'),
  );
  assert.throws(
    () => parseSnapshotFilter(new URLSearchParams("source=k8s.secret")),
    (error: Error) =>
      error instanceof FilterError && /invalid source "k8s\.secret"/.test(error.message),
  );
  assert.throws(
    () => parseSnapshotFilter(new URLSearchParams("sevrity=critical")),
    new FilterError('unknown query parameter "sevrity"; expected source, severity or namespace'),
  );
});
