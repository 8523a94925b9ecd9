import assert from "node:assert/strict";
import { assessMaterial } from "../../../core/analyze.ts";
import { classify } from "../../../core/classify.ts";
import type { MaterialTarget } from "../../../core/target.ts";
import { issueCertificate } from "../../support/pki.ts";

const HOUR_MS = 3_600_000;
const THRESHOLDS = { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS };

function secretTarget(certPem: string, caPem?: string): MaterialTarget {
  const encoder = new TextEncoder();
  return {
    kind: "material",
    source: "k8s.tlsSecret",
    namespace: "dev",
    name: "self-signed-tls",
    failClosed: false,
    objectLabel: "secret dev/self-signed-tls",
    key: "tls.crt",
    bytes: encoder.encode(certPem),
    anchors: caPem ? encoder.encode(caPem) : undefined,
  };
}

Deno.test("self-signed Secret without ca.crt stays healthy", async () => {
  const leaf = await issueCertificate({
    commonName: "dev.example.com",
    dnsNames: ["dev.example.com"],
  });
  const at = new Date();

  const [assessment] = assessMaterial(secretTarget(leaf.certPem), at);
  const finding = classify(assessment, THRESHOLDS, at);

  assert.equal(finding.severity, "info");
  assert.deepEqual(finding.chainErrors, ["self-signed leaf"], "the fact is still recorded");
});

Deno.test("self-signed Secret with another ca.crt is a chain problem", async () => {
  const leaf = await issueCertificate({
    commonName: "dev.example.com",
    dnsNames: ["dev.example.com"],
  });
  const ca = await issueCertificate({ commonName: "team CA", isCA: true });
  const at = new Date();

  const [assessment] = assessMaterial(secretTarget(leaf.certPem, ca.certPem), at);
  const finding = classify(assessment, THRESHOLDS, at);

  assert.equal(finding.severity, "warn");
  assert.equal(finding.findingType, "CHAIN_INVALID");
});
