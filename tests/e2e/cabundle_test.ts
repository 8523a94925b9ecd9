import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { resolveFlags, runTrustwatch } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { service, tlsBackend, validatingWebhook } from "../sandbox/fixtures.ts";
import { freePort, startSandbox } from "../sandbox/server.ts";

Deno.test("caBundle mismatch is critical months before expiry", async () => {
  // The webhook's Service was re-issued by a new CA, but the caBundle still contains the old one:
  // the API server rejects every admission call although the certificate is valid for months.
  const oldCa = await issueCertificate({ commonName: "policy webhook CA (old)", isCA: true });
  const newCa = await issueCertificate({ commonName: "policy webhook CA (new)", isCA: true });
  const host = "policy.admission.svc";
  const leaf = await issueCertificate({
    commonName: host,
    dnsNames: [host],
    issuer: newCa,
    notAfter: daysFromNow(180),
  });
  const port = await freePort();
  const sandbox = await startSandbox({
    objects: [
      service({ namespace: "admission", name: "policy", port }),
      tlsBackend({
        name: "policy",
        hosts: [host],
        port,
        chainPem: leaf.certPem,
        keyPem: leaf.keyPem,
      }),
      validatingWebhook({
        name: "policy",
        webhooks: [{
          name: "validate.policy.example.com",
          service: { namespace: "admission", name: "policy", port },
          caBundlePem: oldCa.certPem,
          failurePolicy: "Fail",
        }],
      }),
    ],
  });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      ...resolveFlags(sandbox.resolveEntries),
      "-o",
      "json",
    ]);
    assert.equal(run.code, 2, run.stderr);
    const { snapshot } = JSON.parse(run.stdout) as { snapshot: Snapshot };
    const webhook = snapshot.findings.filter((finding: Finding) =>
      finding.source === "k8s.webhook" && finding.target === `${host}:${port}`
    );
    assert.equal(webhook.length, 1, JSON.stringify(snapshot.findings, null, 1));
    const [finding] = webhook;
    assert.equal(finding.severity, "critical");
    assert.equal(finding.findingType, "CABUNDLE_MISMATCH");
    assert.equal(finding.probeOk, true);
    assert.equal(finding.serial, leaf.serialHex, "the served certificate was read");
    assert.ok(
      new Date(finding.notAfter) > daysFromNow(150),
      "the certificate is months from expiry",
    );
    assert.match(finding.notes ?? "", /caBundle of validatingwebhookconfiguration policy/);
    assert.ok(finding.remediation);

    const bundle = snapshot.findings.find((candidate) =>
      candidate.name === "policy/validate.policy.example.com" && candidate.target === "caBundle"
    );
    assert.equal(
      bundle?.severity,
      "info",
      "the old CA itself is valid; the mismatch is the problem",
    );
  } finally {
    await sandbox.close();
  }
});
