import assert from "node:assert/strict";
import { SEVERITIES, SOURCE_KINDS } from "../../core/model.ts";
import { runTrustwatch } from "../support/cli.ts";
import { startDemoCluster } from "../sandbox/demo_cluster.ts";

/** The published schema's field names and JSON types; fields may be added, never renamed. */
const FIELD_TYPES: Record<string, "string" | "number" | "boolean" | "string[]"> = {
  source: "string",
  severity: "string",
  probeOk: "boolean",
  notAfter: "string",
  name: "string",
  namespace: "string",
  cluster: "string",
  target: "string",
  sni: "string",
  subject: "string",
  issuer: "string",
  serial: "string",
  dnsNames: "string[]",
  issuerChain: "string[]",
  chainLen: "number",
  chainErrors: "string[]",
  postureIssues: "string[]",
  revocationIssues: "string[]",
  tlsVersion: "string",
  cipherSuite: "string",
  keyAlgorithm: "string",
  keySize: "number",
  signatureAlgorithm: "string",
  selfSigned: "boolean",
  isCA: "boolean",
  findingType: "string",
  policyName: "string",
  notes: "string",
  probeError: "string",
  remediation: "string",
};
const REQUIRED = ["source", "severity", "probeOk", "notAfter"];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function typeOf(value: unknown): string {
  if (Array.isArray(value)) {
    return value.every((item) => typeof item === "string") ? "string[]" : "array";
  }
  return typeof value;
}

Deno.test("now -o json follows the published contract", async () => {
  const demo = await startDemoCluster({ extraConfig: "clusterName: demo\n" });
  try {
    const run = await runTrustwatch(["now", ...demo.flags, "-o", "json"]);
    const output = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(output).sort(), ["exitCode", "snapshot"]);
    assert.deepEqual(Object.keys(output.snapshot).sort(), ["at", "errors", "findings"]);
    assert.match(output.snapshot.at, RFC3339);
    assert.ok(output.snapshot.findings.length > 10);

    for (const finding of output.snapshot.findings) {
      const label = `${finding.source} ${finding.name}`;
      for (const field of REQUIRED) assert.ok(field in finding, `${label}: ${field} is required`);
      for (const [field, value] of Object.entries(finding)) {
        assert.ok(field in FIELD_TYPES, `${label}: ${field} is not a contract field`);
        assert.equal(typeOf(value), FIELD_TYPES[field], `${label}: ${field} type`);
      }
      assert.ok((SEVERITIES as readonly string[]).includes(finding.severity), label);
      assert.ok((SOURCE_KINDS as readonly string[]).includes(finding.source), label);
      assert.match(finding.notAfter, RFC3339, label);
      assert.equal(finding.cluster, "demo", label);
      if (finding.severity !== "info") {
        assert.ok(finding.remediation, `${label}: a problem has a remediation`);
      }
      if (finding.severity === "info") assert.equal(finding.findingType, undefined, label);
      if (finding.probeOk) assert.match(finding.serial, /^[0-9A-F]+$/, label);
    }
  } finally {
    await demo.close();
  }
});
