import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { remediationFor } from "../../core/remediation.ts";
import type { EndpointTarget, MaterialTarget, ProblemTarget } from "../../core/target.ts";
import { resolveFlags, runTrustwatch } from "../support/cli.ts";
import { demoFixtures } from "../sandbox/fixtures.ts";
import { startSandbox } from "../sandbox/server.ts";

function finding(findingType: string, extra: Partial<Finding> = {}): Finding {
  return {
    source: "k8s.tlsSecret",
    severity: "critical",
    probeOk: true,
    notAfter: "2026-01-01T00:00:00Z",
    findingType,
    ...extra,
  };
}

const SECRET: MaterialTarget = {
  kind: "material",
  source: "k8s.tlsSecret",
  namespace: "payments",
  name: "ledger-tls",
  failClosed: false,
  ref: { resource: "secret", namespace: "payments", name: "ledger-tls" },
  objectLabel: "secret payments/ledger-tls",
  key: "tls.crt",
  bytes: new Uint8Array(),
};

const WEBHOOK: EndpointTarget = {
  kind: "endpoint",
  source: "k8s.webhook",
  namespace: "kyverno",
  name: "kyverno-resource-validating-webhook-cfg/validate.kyverno.svc",
  failClosed: true,
  ref: {
    resource: "validatingwebhookconfiguration",
    name: "kyverno-resource-validating-webhook-cfg",
  },
  endpoint: { host: "kyverno-svc.kyverno.svc", port: 443, sni: "kyverno-svc.kyverno.svc" },
  expectedNames: ["kyverno-svc.kyverno.svc"],
  trust: { kind: "anchors", pem: new Uint8Array(), origin: "caBundle" },
};

Deno.test("remediation renews a Secret with real names", () => {
  const text = remediationFor(finding("EXPIRED", { target: "tls.crt" }), SECRET);
  assert.match(text, /Secret payments\/ledger-tls/);
  assert.match(text, /cmctl renew -n payments \$\(kubectl get secret ledger-tls -n payments/);
  assert.match(text, /kubectl create secret tls ledger-tls -n payments/);

  const managed = remediationFor(finding("EXPIRING"), {
    ...SECRET,
    certificateRef: { namespace: "payments", name: "ledger" },
  });
  assert.match(managed, /cmctl renew ledger -n payments$/);
});

Deno.test("remediation points webhooks at their service", () => {
  const expired = remediationFor(finding("EXPIRED", { source: "k8s.webhook" }), WEBHOOK);
  assert.match(expired, /service kyverno\/kyverno-svc/);
  assert.match(
    expired,
    /kubectl get endpointslices -n kyverno -l kubernetes\.io\/service-name=kyverno-svc/,
  );
  const chain = remediationFor(finding("CHAIN_INVALID", { source: "k8s.webhook" }), WEBHOOK);
  assert.match(
    chain,
    /kubectl edit validatingwebhookconfiguration kyverno-resource-validating-webhook-cfg$/,
  );
  assert.match(chain, /webhook validate\.kyverno\.svc/);
  const unreachable = remediationFor(finding("PROBE_FAILED", { source: "k8s.webhook" }), WEBHOOK);
  assert.match(unreachable, /ready endpoints serving TLS on port 443/);
});

Deno.test("remediation names ingress for a missing Secret", () => {
  const target: ProblemTarget = {
    kind: "problem",
    source: "k8s.ingressTLS",
    namespace: "shop",
    name: "storefront",
    failClosed: false,
    findingType: "SECRET_NOT_FOUND",
    message: "missing",
    target: "storefront-tls",
    ref: { resource: "secret", namespace: "shop", name: "storefront-tls" },
  };
  const text = remediationFor(finding("SECRET_NOT_FOUND", { source: "k8s.ingressTLS" }), target);
  assert.match(text, /Create Secret shop\/storefront-tls/);
  assert.match(text, /kubectl edit ingress storefront -n shop/);
  assert.match(text, /kubectl get secret storefront-tls -n shop$/);
});

Deno.test("remediation of external endpoints uses openssl", () => {
  const external: EndpointTarget = {
    kind: "endpoint",
    source: "external",
    name: "https://status.example.com",
    failClosed: false,
    endpoint: { host: "status.example.com", port: 443 },
    expectedNames: ["status.example.com"],
    trust: { kind: "system" },
  };
  assert.equal(
    remediationFor(finding("CHAIN_INVALID", { source: "external" }), external),
    "Serve the full chain, up to a publicly trusted root, at status.example.com:443",
  );
  assert.match(
    remediationFor(finding("PROBE_FAILED", { source: "external" }), external),
    /openssl s_client -connect status\.example\.com:443 -servername status\.example\.com$/,
  );
  assert.doesNotMatch(
    remediationFor(finding("WEAK_SIGNATURE", { source: "external" }), external),
    /undefined/,
  );
});

Deno.test("every demo problem has a filled-in remediation", async () => {
  const { objects, external } = await demoFixtures();
  const sandbox = await startSandbox({ objects });
  const configPath = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(configPath, `external:\n  - url: ${external.url}\n`);
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      ...resolveFlags(sandbox.resolveEntries),
      "-o",
      "json",
    ]);
    const snapshot = (JSON.parse(run.stdout) as { snapshot: Snapshot }).snapshot;
    const problems = snapshot.findings.filter((entry) => entry.severity !== "info");
    assert.ok(problems.length >= 5, run.stdout);
    for (const problem of problems) {
      const label = `${problem.findingType} ${problem.namespace}/${problem.name}`;
      assert.ok(problem.remediation, `${label} has no remediation`);
      assert.doesNotMatch(problem.remediation, /undefined|<[a-z-]+>/, label);
      assert.ok(!problem.remediation.includes("\n"), `${label}: one line`);
      if (problem.source !== "external") {
        assert.match(problem.remediation, /kubectl |cmctl /, `${label}: names a command`);
      }
    }
    for (const healthy of snapshot.findings.filter((entry) => entry.severity === "info")) {
      assert.equal(healthy.remediation, undefined);
    }
  } finally {
    await sandbox.close();
    await Deno.remove(configPath);
  }
});
