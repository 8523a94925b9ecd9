import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { defaultConfig } from "../../../core/config.ts";
import { IngressDiscoverer } from "../../../core/discovery/ingress.ts";
import { TlsSecretDiscoverer } from "../../../core/discovery/tls_secrets.ts";
import { NamespaceAccess, SSAR_PATH } from "../../../core/kube/access.ts";
import { connectToCluster } from "../../../core/kube/client.ts";
import { exitCodeFor, type Snapshot } from "../../../core/model.ts";
import { runScan } from "../../../core/scan.ts";
import { ingress, namespace, tlsSecret } from "../../sandbox/fixtures.ts";
import { type KubeObject, type Sandbox, startSandbox } from "../../sandbox/server.ts";
import { runTrustwatch } from "../../support/cli.ts";
import { daysFromNow, issueCertificate } from "../../support/pki.ts";

const HOUR_MS = 3_600_000;
const THRESHOLDS = { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS };

/** Ten namespaces `team-0`…`team-9`, each with a healthy TLS Secret and an Ingress using it. */
async function teamObjects(): Promise<KubeObject[]> {
  const ca = await issueCertificate({ commonName: "shop CA", isCA: true });
  const certificate = await issueCertificate({
    commonName: "shop.example.com",
    dnsNames: ["shop.example.com"],
    issuer: ca,
  });
  return Array.from({ length: 10 }, (_, index) => `team-${index}`).flatMap((name) => [
    namespace(name),
    tlsSecret({ namespace: name, name: "shop-tls", certPem: certificate.certPem }),
    ingress({
      namespace: name,
      name: "shop",
      tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
    }),
  ]);
}

const FORBIDDEN = ["team-2", "team-5", "team-8"];

async function scanSandbox(sandbox: Sandbox, namespaces: string[] = []): Promise<Snapshot> {
  const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
  return runScan({
    kube,
    config: defaultConfig(),
    namespaces,
    thresholds: THRESHOLDS,
    probe: { resolveOnly: true },
    discoverers: [new TlsSecretDiscoverer(), new IngressDiscoverer()],
  });
}

function namespacesWithFindings(snapshot: Snapshot, source: string): string[] {
  const names = snapshot.findings
    .filter((finding) => finding.source === source)
    .map((finding) => finding.namespace!);
  return [...new Set(names)].sort();
}

/** List requests of secrets or ingresses inside one of the forbidden namespaces. */
function forbiddenLists(sandbox: Sandbox): string[] {
  return sandbox.requestLog
    .filter((entry) => entry.method === "GET")
    .map((entry) => entry.path)
    .filter((path) => FORBIDDEN.some((name) => path.includes(`/namespaces/${name}/`)));
}

Deno.test("forbidden cluster-wide list falls back per namespace", async () => {
  const sandbox = await startSandbox({
    objects: await teamObjects(),
    forbiddenNamespaces: FORBIDDEN,
  });
  try {
    const snapshot = await scanSandbox(sandbox);

    const readable = ["team-0", "team-1", "team-3", "team-4", "team-6", "team-7", "team-9"];
    assert.deepEqual(namespacesWithFindings(snapshot, "k8s.tlsSecret"), readable);
    assert.deepEqual(namespacesWithFindings(snapshot, "k8s.ingressTLS"), readable);
    assert.deepEqual(
      snapshot.findings.filter((finding) => finding.severity !== "info").map((f) =>
        `${f.namespace}/${f.name} ${f.findingType} ${f.notes}`
      ),
      [],
    );
    assert.deepEqual(
      snapshot.errors.map((error) => error.message),
      FORBIDDEN.map((name) =>
        `namespace ${name} skipped: the credentials may not list ingresses.networking.k8s.io, ` +
        "secrets there; grant list access there (Role and RoleBinding) or scope the scan with " +
        "--namespace"
      ),
    );
    assert.equal(exitCodeFor(snapshot), 3, "skipped namespaces leave the scan incomplete");
    assert.deepEqual(forbiddenLists(sandbox), [], "no list is sent where the review denied it");
    assert.ok(sandbox.requestLog.some((entry) => entry.path === SSAR_PATH));
  } finally {
    await sandbox.close();
  }
});

Deno.test("namespace list scoped without namespace listing", async () => {
  const sandbox = await startSandbox({
    objects: await teamObjects(),
    forbiddenNamespaces: FORBIDDEN,
    forbidNamespaceList: true,
  });
  try {
    const snapshot = await scanSandbox(sandbox, ["team-1", "team-2", "team-3"]);

    assert.deepEqual(namespacesWithFindings(snapshot, "k8s.tlsSecret"), ["team-1", "team-3"]);
    assert.equal(snapshot.errors.length, 1);
    assert.match(snapshot.errors[0].message, /^namespace team-2 skipped: .* out of --namespace$/);
    assert.equal(
      sandbox.requestLog.filter((entry) => entry.path.startsWith("/api/v1/namespaces?")).length,
      0,
      "a scoped scan never lists namespaces",
    );
    assert.deepEqual(forbiddenLists(sandbox), []);
  } finally {
    await sandbox.close();
  }
});

Deno.test("unlistable namespaces without scope name the fix", async () => {
  const sandbox = await startSandbox({
    objects: await teamObjects(),
    forbiddenNamespaces: FORBIDDEN,
    forbidNamespaceList: true,
  });
  try {
    const snapshot = await scanSandbox(sandbox);
    assert.deepEqual(snapshot.findings, []);
    assert.deepEqual(
      snapshot.errors.map((error) => `${error.source}: ${error.message}`).sort(),
      [
        "k8s.ingressTLS: cannot list ingresses.networking.k8s.io cluster-wide and cannot list " +
        "namespaces (forbidden); pass --namespace for each namespace to scan, or grant list on namespaces",
        "k8s.tlsSecret: cannot list secrets cluster-wide and cannot list namespaces (forbidden); " +
        "pass --namespace for each namespace to scan, or grant list on namespaces",
      ],
    );
  } finally {
    await sandbox.close();
  }
});

Deno.test("access reviews are cached per resource and namespace", async () => {
  const sandbox = await startSandbox({ objects: [], forbiddenNamespaces: ["locked"] });
  try {
    const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
    const access = new NamespaceAccess(kube, {
      namespaces: [],
      logger: getLogger(["trustwatch", "test"]),
      signal: new AbortController().signal,
    });
    const secrets = { group: "", resource: "secrets" };
    assert.equal(await access.allowed("list", secrets, "open"), true);
    assert.equal(await access.allowed("list", secrets, "locked"), false);
    assert.equal(await access.allowed("list", secrets, "locked"), false);
    assert.equal(await access.allowed("list", secrets), false, "cluster-wide list is denied");
    const reviews = sandbox.requestLog.filter((entry) => entry.path === SSAR_PATH);
    assert.equal(reviews.length, 3);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now with 30% forbidden namespaces exits by the rules", async () => {
  const expired = await issueCertificate({
    commonName: "old.example.com",
    notBefore: daysFromNow(-90),
    notAfter: daysFromNow(-1),
  });
  const objects = await teamObjects();
  const sandbox = await startSandbox({ objects, forbiddenNamespaces: FORBIDDEN });
  try {
    const incomplete = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      "-o",
      "json",
    ]);
    assert.equal(incomplete.code, 3, "errors without critical findings exit 3");
    const output = JSON.parse(incomplete.stdout) as { snapshot: Snapshot; exitCode: number };
    assert.equal(output.exitCode, 3);
    const skipped = output.snapshot.errors.filter((error) => error.message.includes(" skipped:"));
    assert.equal(skipped.length, FORBIDDEN.length);
    for (const name of FORBIDDEN) {
      const lines = incomplete.stderr.split("\n").filter((line) =>
        line.includes(`namespace "${name}" skipped`)
      );
      assert.equal(lines.length, 1, `one log line for ${name}:\n${incomplete.stderr}`);
    }
    assert.doesNotMatch(
      incomplete.stderr,
      /cannot list resource "(secrets|ingresses)"/,
      "no 403 per namespace or object",
    );

    sandbox.objects.add(
      tlsSecret({ namespace: "team-0", name: "old-tls", certPem: expired.certPem }),
    );
    const critical = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      "-o",
      "json",
    ]);
    assert.equal(critical.code, 2, "a critical finding beats the discovery errors");
  } finally {
    await sandbox.close();
  }
});
