import assert from "node:assert/strict";
import type { Finding } from "../../core/model.ts";
import { base64, tlsBackend, tlsSecret } from "../sandbox/fixtures.ts";
import { freePort, type KubeObject, startSandbox } from "../sandbox/server.ts";
import { runTrustwatch } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";

const NAMESPACE = "payments";
const APP_LABELS = { "app.kubernetes.io/name": "api" };

function deployment(port: number, secretName: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "api",
      namespace: NAMESPACE,
      annotations: {
        "trustwatch.dev/enabled": "true",
        "trustwatch.dev/ports": String(port),
        "trustwatch.dev/sni": "api.payments.example.com",
        "trustwatch.dev/tls-secret": secretName,
      },
    },
    spec: {
      selector: { matchLabels: APP_LABELS },
      template: {
        metadata: { labels: APP_LABELS },
        spec: { containers: [{ name: "api", image: "api:1", ports: [{ containerPort: port }] }] },
      },
    },
  };
}

function runningPod(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NAMESPACE, labels: APP_LABELS },
    spec: { containers: [{ name: "api", image: "api:1" }] },
    status: { phase: "Running", podIP: "127.0.0.1" },
  };
}

Deno.test("now reports deployment serving stale certificate", async () => {
  const ca = await issueCertificate({ commonName: "payments CA", isCA: true });
  const lastMonth = await issueCertificate({
    commonName: "api.payments.example.com",
    dnsNames: ["api.payments.example.com"],
    issuer: ca,
    notBefore: daysFromNow(-35),
    notAfter: daysFromNow(55),
  });
  const renewed = await issueCertificate({
    commonName: "api.payments.example.com",
    dnsNames: ["api.payments.example.com"],
    issuer: ca,
    notBefore: daysFromNow(-1),
    notAfter: daysFromNow(89),
  });
  const port = await freePort();
  const sandbox = await startSandbox({
    objects: [
      tlsBackend({
        name: "api-pod",
        hosts: ["api.payments.example.com"],
        port,
        chainPem: lastMonth.certPem,
        keyPem: lastMonth.keyPem,
      }),
      tlsSecret({
        namespace: NAMESPACE,
        name: "api-tls",
        certPem: renewed.certPem,
        keyPem: renewed.keyPem,
        caPem: ca.certPem,
      }),
      deployment(port, "api-tls"),
      runningPod("api-7d9f-abcde"),
    ],
  });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      "-o",
      "json",
    ]);
    const output = JSON.parse(run.stdout);
    const findings: Finding[] = output.snapshot.findings;
    const served = findings.find((finding) =>
      finding.source === "annotation" && finding.target === `127.0.0.1:${port}`
    );
    assert.ok(served, `no finding for the pod endpoint in ${run.stdout}`);
    assert.equal(served.findingType, "STALE_SERVING_CERT");
    assert.equal(served.severity, "warn");
    assert.equal(served.serial, lastMonth.serialHex);
    assert.match(
      served.notes ?? "",
      new RegExp(`secret payments/api-tls holds serial ${renewed.serialHex}`),
    );
    assert.match(served.notes ?? "", /pod=api-7d9f-abcde/);
    assert.match(served.remediation ?? "", /kubectl rollout restart deployment api -n payments/);
    assert.equal(served.chainErrors, undefined, "the served chain verifies against ca.crt");

    const stored = findings.find((finding) =>
      finding.source === "annotation" && finding.target === "tls.crt"
    );
    assert.equal(stored?.serial, renewed.serialHex);
    assert.equal(stored?.severity, "info");
    assert.deepEqual(output.snapshot.errors, []);
    assert.equal(run.code, 1, "a warning and nothing worse exits 1");
    assert.equal(output.exitCode, 1);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now accepts a served certificate matching its Secret", async () => {
  const ca = await issueCertificate({ commonName: "payments CA", isCA: true });
  const current = await issueCertificate({
    commonName: "api.payments.example.com",
    dnsNames: ["api.payments.example.com"],
    issuer: ca,
  });
  const port = await freePort();
  const sandbox = await startSandbox({
    objects: [
      tlsBackend({
        name: "api-pod",
        hosts: ["api.payments.example.com"],
        port,
        chainPem: current.certPem,
        keyPem: current.keyPem,
      }),
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "api-tls", namespace: NAMESPACE },
        type: "kubernetes.io/tls",
        data: { "tls.crt": base64(current.certPem), "tls.key": base64(current.keyPem) },
      },
      deployment(port, "api-tls"),
      runningPod("api-7d9f-abcde"),
    ],
  });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      "-o",
      "json",
    ]);
    const findings: Finding[] = JSON.parse(run.stdout).snapshot.findings;
    const served = findings.find((finding) => finding.target === `127.0.0.1:${port}`);
    assert.equal(served?.severity, "info", JSON.stringify(served));
    assert.equal(served?.findingType, undefined);
    assert.equal(run.code, 0);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now rejects an invalid --linkerd-namespace", async () => {
  const run = await runTrustwatch(["now", "--linkerd-namespace", "Linkerd_Prod"]);
  assert.equal(run.code, 3);
  assert.match(run.stderr, /--linkerd-namespace: "Linkerd_Prod" is not a valid namespace name/);
});

Deno.test("now reads the istio namespace from the flag", async () => {
  const root = await issueCertificate({
    commonName: "mesh root",
    isCA: true,
    notAfter: daysFromNow(10),
  });
  const sandbox = await startSandbox({
    objects: [{
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "istio-ca-root-cert", namespace: "mesh-prod" },
      data: { "root-cert.pem": root.certPem },
    }],
  });
  try {
    const args = ["now", "--kubeconfig", sandbox.kubeconfigPath, "--resolve-only", "-o", "json"];
    const defaults = await runTrustwatch(args);
    assert.equal(defaults.code, 0, "istio-system holds nothing");
    const flagged = await runTrustwatch([...args, "--istio-namespace", "mesh-prod"]);
    const findings: Finding[] = JSON.parse(flagged.stdout).snapshot.findings;
    const mesh = findings.find((finding) => finding.source === "mesh.istio");
    assert.equal(mesh?.severity, "critical", "a mesh root 10 days from expiry is critical");
    assert.equal(mesh?.findingType, "EXPIRING");
    assert.equal(flagged.code, 2);
  } finally {
    await sandbox.close();
  }
});
