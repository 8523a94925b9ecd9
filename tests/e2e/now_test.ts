import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { runTrustwatch } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { startDemoCluster } from "../sandbox/demo_cluster.ts";
import { namespace, tlsSecret, validatingWebhook } from "../sandbox/fixtures.ts";
import { trustwatchRunArgs } from "../sandbox/relay_process.ts";
import { freePort, startSandbox } from "../sandbox/server.ts";

interface JsonOutput {
  snapshot: Snapshot;
  exitCode: number;
}

async function withDemoCluster(run: (flags: string[]) => Promise<void>): Promise<void> {
  const demo = await startDemoCluster();
  try {
    await run(demo.flags);
  } finally {
    await demo.close();
  }
}

function problemKey(finding: Finding): string {
  const where = finding.namespace ? `${finding.namespace}/${finding.name}` : finding.name;
  return `${finding.severity} ${finding.source} ${where} ${finding.findingType}`;
}

Deno.test("now on the demo cluster reports exactly its problems and exits 2", async () => {
  await withDemoCluster(async (flags) => {
    const run = await runTrustwatch(["now", ...flags, "-o", "json"]);
    assert.equal(run.code, 2, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    assert.equal(output.exitCode, 2);
    assert.deepEqual(output.snapshot.errors, []);

    const problems = output.snapshot.findings.filter((finding) => finding.severity !== "info");
    assert.deepEqual(
      problems.map(problemKey).sort(),
      [
        "critical k8s.tlsSecret monitoring/grafana-tls EXPIRED",
        "critical k8s.tlsSecret payments/ledger-tls EXPIRING",
        "critical k8s.webhook kyverno/kyverno-resource-mutating-webhook-cfg/mutate.kyverno.svc-fail EXPIRED",
        "warn external https://localhost:" + new URL(
          problems.find((f) => f.source === "external")!.name!,
        ).port +
        " CHAIN_INVALID",
        "warn k8s.apiservice monitoring/v1beta1.metrics.k8s.io INSECURE_SKIP_VERIFY",
        "warn k8s.ingressTLS payments/legacy-checkout SECRET_NOT_FOUND",
        "warn k8s.tlsSecret payments/checkout-tls EXPIRING",
        "warn k8s.webhook monitoring/prometheus-operator-admission/prometheusrulevalidate.monitoring.coreos.com EXPIRING",
      ].sort(),
    );

    const sources = new Set(output.snapshot.findings.map((finding) => finding.source));
    assert.deepEqual(
      [...sources].sort(),
      [
        "external",
        "k8s.apiserver",
        "k8s.apiservice",
        "k8s.ingressTLS",
        "k8s.tlsSecret",
        "k8s.webhook",
      ],
    );
    const apiServer = output.snapshot.findings.find((finding) =>
      finding.source === "k8s.apiserver"
    )!;
    assert.equal(apiServer.severity, "info");
    assert.equal(apiServer.probeOk, true);
  });
});

Deno.test("now table lists only problems, most severe first", async () => {
  await withDemoCluster(async (flags) => {
    const run = await runTrustwatch(["now", ...flags]);
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^SEVERITY\s+SOURCE\s+WHERE\s+EXPIRES\s+FINDING\s+DETAIL$/);
    const severities = lines.slice(1).filter((line) => /^(CRITICAL|WARN|INFO) /.test(line))
      .map((line) => line.split(" ")[0]);
    assert.deepEqual(severities, [
      "CRITICAL",
      "CRITICAL",
      "CRITICAL",
      "WARN",
      "WARN",
      "WARN",
      "WARN",
      "WARN",
    ]);
    assert.doesNotMatch(run.stdout, /api-tls\s/, "healthy Secrets stay out of the table");
    assert.match(lines[lines.length - 1], /^3 critical, 5 warn, \d+ healthy/);
  });
});

Deno.test("now exits 3 with one line when the cluster is unreachable", async () => {
  const sandbox = await startSandbox({});
  const port = await freePort();
  const kubeconfig = (await Deno.readTextFile(sandbox.kubeconfigPath))
    .replace(new URL(sandbox.url).port, String(port));
  await sandbox.close();
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, kubeconfig);
  try {
    const run = await runTrustwatch(["now", "--kubeconfig", path]);
    assert.equal(run.code, 3);
    assert.equal(run.stdout, "");
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^trustwatch: context "sandbox" \\(https://127\\.0\\.0\\.1:${port}\\): ` +
          "cannot connect to the API server: connection refused",
      ),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("now exits 3 naming the credentials when the token is rejected", async () => {
  const sandbox = await startSandbox({});
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    path,
    (await Deno.readTextFile(sandbox.kubeconfigPath)).replace(sandbox.token, "wrong-token"),
  );
  try {
    const run = await runTrustwatch(["now", "--kubeconfig", path, "--context", "sandbox"]);
    assert.equal(run.code, 3);
    assert.match(
      run.stderr.trim(),
      new RegExp(
        `^trustwatch: context "sandbox" \\(${sandbox.url}\\): the API server rejected the ` +
          "credentials \\(401 Unauthorized\\); log in again or fix the user in the kubeconfig$",
      ),
    );
    assert.equal(run.stderr.trim().split("\n").length, 1);
  } finally {
    await sandbox.close();
    await Deno.remove(path);
  }
});

Deno.test("now merges several KUBECONFIG files and honours --context", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")] });
  const other = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    other,
    `apiVersion: v1
kind: Config
clusters:
  - name: elsewhere
    cluster: { server: "https://127.0.0.1:1" }
users:
  - name: elsewhere
    user: { token: nothing }
contexts:
  - name: elsewhere
    context: { cluster: elsewhere, user: elsewhere }
current-context: elsewhere
`,
  );
  try {
    const merged = { KUBECONFIG: `${other}:${sandbox.kubeconfigPath}` };
    const wrong = await runTrustwatch(["now", "-o", "json"], { env: merged });
    assert.equal(wrong.code, 3, "the first file's current-context points at a closed port");
    assert.match(wrong.stderr, /127\.0\.0\.1:1/);

    const right = await runTrustwatch(["now", "-o", "json", "--context", "sandbox"], {
      env: merged,
    });
    assert.equal(right.code, 0, right.stderr);
    const output: JsonOutput = JSON.parse(right.stdout);
    assert.equal(output.snapshot.findings[0].source, "k8s.apiserver");

    const missing = await runTrustwatch(["now", "--context", "nope"], { env: merged });
    assert.equal(missing.code, 3);
    assert.match(
      missing.stderr,
      /context "nope" not found in kubeconfig; known contexts: elsewhere, sandbox/,
    );
  } finally {
    await sandbox.close();
    await Deno.remove(other);
  }
});

Deno.test("now uses the in-cluster service account without a kubeconfig", async () => {
  const sandbox = await startSandbox({});
  const root = await Deno.makeTempDir();
  const accountDir = `${root}/var/run/secrets/kubernetes.io/serviceaccount`;
  await Deno.mkdir(accountDir, { recursive: true });
  await Deno.writeTextFile(`${accountDir}/token`, sandbox.token);
  await Deno.writeTextFile(`${accountDir}/ca.crt`, sandbox.caPem);
  await Deno.writeTextFile(`${accountDir}/namespace`, "default");
  const url = new URL(sandbox.url);
  try {
    const run = await runTrustwatch(["now", "-o", "json"], {
      unsetEnv: ["KUBECONFIG"],
      env: {
        HOME: root,
        KUBERNETES_SERVICE_HOST: url.hostname,
        KUBERNETES_SERVICE_PORT: url.port,
        TRUSTWATCH_SERVICE_ACCOUNT_ROOT: root,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    const apiServer = output.snapshot.findings.find((finding) =>
      finding.source === "k8s.apiserver"
    );
    assert.equal(apiServer?.severity, "info");
  } finally {
    await sandbox.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("now records a failing discoverer and keeps the others", async () => {
  const expired = await issueCertificate({
    commonName: "old",
    notAfter: daysFromNow(-1),
    notBefore: daysFromNow(-30),
  });
  const sandbox = await startSandbox({
    objects: [
      tlsSecret({
        namespace: "team-a",
        name: "old-tls",
        certPem: expired.certPem,
        keyPem: expired.keyPem,
      }),
      validatingWebhook({
        name: "unreachable",
        webhooks: [{
          name: "check.example.com",
          service: { namespace: "team-a", name: "gone", port: 443 },
          failurePolicy: "Ignore",
        }],
      }),
    ],
    // Namespaced Roles only, and no right to list namespaces: Secrets and Ingresses cannot be
    // listed anywhere without --namespace.
    forbiddenNamespaces: ["team-b"],
    forbidNamespaceList: true,
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
    const output: JsonOutput = JSON.parse(run.stdout);
    const failed = output.snapshot.errors.map((error) => error.source).sort();
    assert.ok(failed.includes("k8s.ingressTLS"), failed.join(", "));
    assert.ok(failed.includes("k8s.tlsSecret"), failed.join(", "));
    const secretsError = output.snapshot.errors.find((error) => error.source === "k8s.tlsSecret");
    assert.match(secretsError!.message, /forbidden.*--namespace/i);
    const webhook = output.snapshot.findings.find((finding) => finding.source === "k8s.webhook");
    assert.equal(webhook?.severity, "warn");
    assert.equal(webhook?.findingType, "PROBE_FAILED");
    assert.equal(run.code, 3);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now --scan-timeout cancels a slow scan and exits 3", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")], latencyMs: 400 });
  try {
    const started = Date.now();
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--scan-timeout",
      "600ms",
      "-o",
      "json",
    ]);
    assert.equal(run.code, 3, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    assert.ok(output.snapshot.errors.length > 0);
    assert.match(
      output.snapshot.errors[0].message,
      /scan timed out after 600ms \(--scan-timeout\)/,
    );
    assert.ok(Date.now() - started < 30_000);
  } finally {
    await sandbox.close();
  }
});

/**
 * A loopback listener that accepts TCP connections and never sends a byte, so a probe of it stays in
 * flight; `accepted` resolves at the first connection.
 */
function startSilentListener(): { port: number; accepted: Promise<void>; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepted = Promise.withResolvers<void>();
  (async () => {
    try {
      for await (const connection of listener) {
        connections.push(connection);
        accepted.resolve();
      }
    } catch {
      // The listener was closed.
    }
  })();
  return {
    port: listener.addr.port,
    accepted: accepted.promise,
    close: () => {
      listener.close();
      for (const connection of connections) {
        try {
          connection.close();
        } catch {
          // Already closed by the peer.
        }
      }
    },
  };
}

/** Writes a config file whose only external target is `tcp://127.0.0.1:PORT`. */
async function externalConfigFile(port: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, `external:\n  - url: tcp://127.0.0.1:${port}\n`);
  return path;
}

Deno.test("now --scan-timeout reports cancelled probes as an error", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")] });
  const silent = startSilentListener();
  const configPath = await externalConfigFile(silent.port);
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      "--scan-timeout",
      "3s",
      "--probe-timeout",
      "600s",
      "-o",
      "json",
    ]);
    assert.equal(run.code, 3, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    assert.deepEqual(
      output.snapshot.findings.filter((finding) => finding.source === "external"),
      [],
      "the cancelled probe is not a PROBE_FAILED finding",
    );
    assert.deepEqual(
      output.snapshot.errors.filter((error) => error.source === "external"),
      [{
        source: "external",
        message: "scan timed out after 3s (--scan-timeout) with 1 probe still running; " +
          "raise --scan-timeout or lower --probe-timeout",
      }],
    );
  } finally {
    silent.close();
    await Deno.remove(configPath);
    await sandbox.close();
  }
});

Deno.test("now --scan-timeout 1ms exits 3 without critical findings", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")] });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--scan-timeout",
      "1ms",
      "-o",
      "json",
    ]);
    assert.equal(run.code, 3, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    assert.deepEqual(
      output.snapshot.findings.filter((finding) => finding.severity === "critical"),
      [],
    );
    assert.ok(output.snapshot.errors.length > 0, "the timeout is a scan error");
    for (const error of output.snapshot.errors) {
      assert.match(error.message, /^scan timed out after 1ms \(--scan-timeout\)/);
    }
  } finally {
    await sandbox.close();
  }
});

Deno.test("now on SIGINT prints one line and exits 130", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")] });
  const silent = startSilentListener();
  const configPath = await externalConfigFile(silent.port);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...await trustwatchRunArgs(),
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      "--probe-timeout",
      "600s",
      "--scan-timeout",
      "600s",
      "-o",
      "table",
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  try {
    // Once the probe has connected, the scan is running and the signal listener is installed.
    await silent.accepted;
    child.kill("SIGINT");
    const result = await output;
    exited = true;

    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 130, stderr);
    assert.equal(stderr, "trustwatch: scan interrupted\n");
    assert.equal(new TextDecoder().decode(result.stdout), "", "no report after an interrupt");
  } finally {
    if (!exited) {
      child.kill("SIGKILL");
      await output;
    }
    silent.close();
    await Deno.remove(configPath);
    await sandbox.close();
  }
});

Deno.test("now rejects timer durations out of range", async () => {
  const cases: [string[], string][] = [
    [["--probe-timeout", "0s"], '--probe-timeout "0s"'],
    [["--probe-timeout", "600h"], '--probe-timeout "600h"'],
    [["--scan-timeout", "597h"], '--scan-timeout "597h"'],
  ];
  for (const [flags, value] of cases) {
    const run = await runTrustwatch(["now", "--kubeconfig", "/nonexistent/kubeconfig", ...flags]);
    assert.equal(run.code, 3, flags.join(" "));
    assert.equal(
      run.stderr,
      `trustwatch: invalid ${value}: expected more than 0 and at most 24h\n`,
    );
  }
});

Deno.test("now rejects bad thresholds before touching the cluster", async () => {
  const cases: [string[], RegExp][] = [
    [["--warn-before", "30d"], /--warn-before: invalid duration "30d"/],
    [
      ["--crit-before", "800h"],
      /--crit-before \(800h\) must be shorter than --warn-before \(720h\)/,
    ],
    [["--resolve", "nonsense"], /invalid --resolve "nonsense"/],
    [["--config", "/nonexistent.yaml"], /\/nonexistent.yaml.*file not found/],
  ];
  for (const [flags, expected] of cases) {
    const run = await runTrustwatch(["now", "--kubeconfig", "/nonexistent/kubeconfig", ...flags]);
    assert.equal(run.code, 3, flags.join(" "));
    assert.match(run.stderr, expected);
  }
});

Deno.test("version prints the version", async () => {
  const run = await runTrustwatch(["version"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^trustwatch \d+\.\d+\.\d+ \(deno 2\.\d+\.\d+, \w+\/\w+\)\n$/);
});

Deno.test("now writes JSON log lines to stderr with --log-format json", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")] });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--log-level",
      "debug",
      "--log-format",
      "json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert.ok(lines.length > 3, "debug logs were written");
    for (const line of lines) {
      const record = JSON.parse(line);
      assert.ok(record.level, line);
      assert.notEqual(record.message, undefined, line);
      assert.ok(record.logger, line);
    }
    assert.ok(lines.some((line) => JSON.parse(line).logger.startsWith("trustwatch.scan")));
  } finally {
    await sandbox.close();
  }
});

Deno.test("now --quiet prints only the problem rows", async () => {
  await withDemoCluster(async (flags) => {
    const quiet = await runTrustwatch(["now", ...flags, "--quiet", "--log-level", "debug"]);
    assert.equal(quiet.code, 2);
    assert.equal(quiet.stderr, "", "--quiet silences logs below error");
    const lines = quiet.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^SEVERITY/);
    assert.equal(lines.length, 9, "a header and eight problems, no summary");
  });
});

Deno.test("now names a missing --kubeconfig file in one line", async () => {
  const run = await runTrustwatch(["now", "--kubeconfig", "/nonexistent/kubeconfig.yaml"]);
  assert.equal(run.code, 3);
  assert.equal(run.stdout, "");
  assert.equal(
    run.stderr,
    "trustwatch: kubeconfig /nonexistent/kubeconfig.yaml: file not found; " +
      "pass an existing file to --kubeconfig\n",
  );
});

Deno.test("now merges KUBECONFIG split into credentials and contexts", async () => {
  const sandbox = await startSandbox({});
  const dir = await Deno.makeTempDir();
  try {
    const lines = (await Deno.readTextFile(sandbox.kubeconfigPath)).split("\n");
    const contextsAt = lines.findIndex((line) => line.startsWith("contexts:"));
    const credentials = `${dir}/credentials.yaml`;
    const contexts = `${dir}/contexts.yaml`;
    await Deno.writeTextFile(credentials, lines.slice(0, contextsAt).join("\n"));
    await Deno.writeTextFile(contexts, lines.slice(contextsAt).join("\n"));

    const run = await runTrustwatch(["now", "-o", "json"], {
      env: { KUBECONFIG: `${dir}/missing.yaml:${credentials}:${contexts}` },
    });
    assert.equal(run.code, 0, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);
    assert.equal(output.snapshot.findings[0].source, "k8s.apiserver");
  } finally {
    await sandbox.close();
    await Deno.remove(dir, { recursive: true });
  }
});
