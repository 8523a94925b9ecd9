import assert from "node:assert/strict";
import type { Finding, Snapshot } from "../../core/model.ts";
import { runTrustwatch } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import {
  backendPod,
  demoFixtures,
  endpointSlice,
  tlsBackend,
  validatingWebhook,
} from "../sandbox/fixtures.ts";
import { startRelayProcess, trustwatchRunArgs } from "../sandbox/relay_process.ts";
import { freePort, type Sandbox, startSandbox } from "../sandbox/server.ts";

interface JsonOutput {
  snapshot: Snapshot;
  exitCode: number;
}

/** Upper bound for a run that must end promptly; far below every timeout the runs use. */
const PROMPT_MS = 60_000;
/** Handshake delay of the slow backend: long enough that a probe is in flight at SIGINT. */
const SLOW_HANDSHAKE_MS = 120_000;

function tunnelArgs(sandbox: Sandbox): string[] {
  return [
    "now",
    "--kubeconfig",
    sandbox.kubeconfigPath,
    "--tunnel",
    "--tunnel-command",
    "/trustwatch,socks5",
    "-o",
    "json",
  ];
}

function relayPodRequests(sandbox: Sandbox, method: string): string[] {
  return sandbox.requestLog
    .filter((entry) => entry.method === method && /\/namespaces\/default\/pods/.test(entry.path))
    .map((entry) => entry.path);
}

function assertRelayGone(sandbox: Sandbox): void {
  assert.deepEqual(sandbox.objects.list("Pod"), [], "relay Pod left in the sandbox");
  assert.deepEqual(sandbox.pods.runningRelays(), [], "relay subprocess still running");
  const created = relayPodRequests(sandbox, "POST");
  const deleted = relayPodRequests(sandbox, "DELETE");
  assert.equal(created.length, 1, `Pod creations: ${created.join(", ")}`);
  assert.equal(deleted.length, 1, `Pod deletions: ${deleted.join(", ")}`);
  assert.match(deleted[0], /\/pods\/trustwatch-relay-[a-z0-9]{5}$/);
}

function webhookFindings(output: JsonOutput): Finding[] {
  // Endpoint findings name host:port; caBundle findings name the bundle.
  return output.snapshot.findings.filter((finding) =>
    finding.source === "k8s.webhook" && /:\d+$/.test(finding.target ?? "")
  );
}

Deno.test("now --tunnel probes webhooks through the relay", async () => {
  const { objects } = await demoFixtures();
  const sandbox = await startSandbox({ objects });
  try {
    const run = await runTrustwatch(tunnelArgs(sandbox));
    assert.equal(run.code, 2, run.stderr);
    const output: JsonOutput = JSON.parse(run.stdout);

    const webhooks = webhookFindings(output);
    assert.deepEqual(
      webhooks.map((finding) => finding.target!.replace(/:\d+$/, "")).sort(),
      [
        "cert-manager-webhook.cert-manager.svc",
        "kyverno-svc.kyverno.svc",
        "prometheus-operator.monitoring.svc",
      ],
    );
    for (const finding of webhooks) {
      assert.equal(finding.probeOk, true, `${finding.target}: ${finding.probeError}`);
    }
    const apiServer = output.snapshot.findings.find((finding) =>
      finding.source === "k8s.apiserver"
    );
    assert.equal(
      apiServer?.probeOk,
      true,
      "the API server is dialed directly, not through the relay",
    );

    const forwards = sandbox.requestLog.filter((entry) => entry.path.includes("/portforward"));
    assert.ok(forwards.length >= webhooks.length, `port-forwards: ${forwards.length}`);
    assertRelayGone(sandbox);
  } finally {
    await sandbox.close();
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`now --tunnel deletes the relay on ${signal}`, async () => {
    const port = await freePort();
    const ca = await issueCertificate({
      commonName: "slow CA",
      isCA: true,
      notAfter: daysFromNow(3650),
    });
    const leaf = await issueCertificate({
      commonName: "slow.payments.svc",
      dnsNames: ["slow.payments.svc"],
      issuer: ca,
      notAfter: daysFromNow(200),
    });
    const sandbox = await startSandbox({
      objects: [
        tlsBackend({
          name: "payments-slow",
          hosts: ["slow.payments.svc"],
          port,
          chainPem: leaf.certPem,
          keyPem: leaf.keyPem,
          handshakeDelayMs: SLOW_HANDSHAKE_MS,
        }),
        validatingWebhook({
          name: "slow",
          webhooks: [{
            name: "slow.payments.example.com",
            service: { namespace: "payments", name: "slow", port },
            caBundlePem: ca.certPem,
            failurePolicy: "Fail",
          }],
        }),
      ],
    });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...await trustwatchRunArgs(),
        ...tunnelArgs(sandbox),
        "--probe-timeout",
        "300s",
        "--scan-timeout",
        "300s",
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let exited = false;
    try {
      const deadline = Date.now() + PROMPT_MS;
      while (!sandbox.requestLog.some((entry) => entry.path.includes("/portforward"))) {
        assert.ok(Date.now() < deadline, "no port-forward within 60s: the probe never started");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The relay now keeps a connection open to the slow backend, so the probe is in flight.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(sandbox.pods.runningRelays().length, 1);
      child.kill(signal);

      const timer = setTimeout(() => child.kill("SIGKILL"), PROMPT_MS);
      const result = await output;
      clearTimeout(timer);
      exited = true;
      const stderr = new TextDecoder().decode(result.stderr);
      assert.notEqual(
        result.signal,
        "SIGKILL",
        `trustwatch did not exit after ${signal}: ${stderr}`,
      );
      // An interrupted scan prints no report: its cancelled probe would read as a critical.
      assert.equal(result.code, signal === "SIGINT" ? 130 : 143, stderr);
      assert.match(
        stderr,
        signal === "SIGINT" ? /trustwatch: scan interrupted\n$/ : /trustwatch: scan terminated\n$/,
      );
      assert.equal(new TextDecoder().decode(result.stdout), "");
      assertRelayGone(sandbox);
    } finally {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already exited.
        }
        await output;
      }
      await sandbox.close();
    }
  });
}

Deno.test("now --tunnel fails fast on an unpullable image", async () => {
  const sandbox = await startSandbox({});
  try {
    const started = performance.now();
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--tunnel",
      "--tunnel-image",
      "registry.invalid/trustwatch:missing",
      "--tunnel-ns",
      "default",
      "-o",
      "json",
    ]);
    const elapsedMs = performance.now() - started;

    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(
      run.stderr,
      /relay Pod default\/trustwatch-relay-[a-z0-9]{5} cannot start: (ErrImagePull|ImagePullBackOff)/,
    );
    assert.match(run.stderr, /registry\.invalid\/trustwatch:missing/);
    assert.doesNotMatch(run.stderr, /not ready within/);
    // The readiness timeout is 120s; failing fast means far below it.
    assert.ok(elapsedMs < PROMPT_MS, `took ${Math.round(elapsedMs)} ms`);
    assertRelayGone(sandbox);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now --tunnel reports a crash-looping relay", async () => {
  const sandbox = await startSandbox({});
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--tunnel",
      "--tunnel-command",
      "/bin/false",
    ]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /cannot start: (CrashLoopBackOff|Error \(exit code 1\))/);
    assertRelayGone(sandbox);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now rejects --tunnel with --probe-via portforward", async () => {
  const sandbox = await startSandbox({});
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--tunnel",
      "--probe-via",
      "portforward",
    ]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /--tunnel and --probe-via portforward are alternatives/);
    assert.deepEqual(relayPodRequests(sandbox, "POST"), []);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now --probe-via portforward reaches Pods behind Services", async () => {
  const readyPort = await freePort();
  const urlPort = await freePort();
  const ca = await issueCertificate({
    commonName: "pf CA",
    isCA: true,
    notAfter: daysFromNow(3650),
  });
  const issue = (name: string) =>
    issueCertificate({
      commonName: name,
      dnsNames: [name],
      ipAddresses: name === "127.0.0.1" ? ["127.0.0.1"] : undefined,
      issuer: ca,
      notAfter: daysFromNow(200),
    });
  const readyLeaf = await issue("ready.shop.svc");
  const urlLeaf = await issue("127.0.0.1");
  const serviceObject = (name: string) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "shop" },
    spec: {
      selector: { app: name },
      ports: [{ name: "https", port: 443, targetPort: 8443, protocol: "TCP" }],
    },
  });

  const sandbox = await startSandbox({
    objects: [
      // The backend port differs from the Service port: only a port-forward to the Pod reaches it.
      tlsBackend({
        name: "shop-ready",
        hosts: [],
        port: readyPort,
        chainPem: readyLeaf.certPem,
        keyPem: readyLeaf.keyPem,
      }),
      tlsBackend({
        name: "url-backend",
        hosts: [],
        port: urlPort,
        chainPem: urlLeaf.certPem,
        keyPem: urlLeaf.keyPem,
      }),
      serviceObject("ready"),
      serviceObject("idle"),
      backendPod({
        namespace: "shop",
        name: "ready-0",
        backend: "shop-ready",
        containerPort: 8443,
        labels: { app: "ready" },
      }),
      endpointSlice({
        namespace: "shop",
        service: "ready",
        port: 8443,
        endpoints: [{ pod: "ready-0", ready: true }],
      }),
      endpointSlice({
        namespace: "shop",
        service: "idle",
        port: 8443,
        endpoints: [{ pod: "idle-0", ready: false }],
      }),
      validatingWebhook({
        name: "shop",
        webhooks: [
          {
            name: "ready.shop.example.com",
            service: { namespace: "shop", name: "ready" },
            caBundlePem: ca.certPem,
            failurePolicy: "Fail",
          },
          {
            name: "idle.shop.example.com",
            service: { namespace: "shop", name: "idle" },
            caBundlePem: ca.certPem,
            failurePolicy: "Ignore",
          },
          {
            name: "url.shop.example.com",
            url: `https://127.0.0.1:${urlPort}/validate`,
            caBundlePem: ca.certPem,
            failurePolicy: "Ignore",
          },
        ],
      }),
    ],
  });
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--probe-via",
      "portforward",
      "-o",
      "json",
    ]);
    const output: JsonOutput = JSON.parse(run.stdout);
    const byTarget = new Map(webhookFindings(output).map((finding) => [finding.target!, finding]));

    const ready = byTarget.get("ready.shop.svc:443");
    assert.equal(ready?.probeOk, true, ready?.probeError);
    assert.equal(ready?.severity, "info");

    const idle = byTarget.get("idle.shop.svc:443");
    assert.equal(idle?.probeOk, false);
    assert.match(
      idle?.probeError ?? "",
      /service shop\/idle has no ready endpoint for port 443 \(1 not ready\)/,
    );

    const url = byTarget.get(`127.0.0.1:${urlPort}`);
    assert.equal(url?.probeOk, true, url?.probeError);
    assert.match(
      run.stderr,
      new RegExp(`no Pod behind "127\\.0\\.0\\.1:${urlPort}" .*dialing it directly`),
    );

    const forwards = sandbox.requestLog.filter((entry) => entry.path.includes("/portforward"));
    assert.ok(forwards.length > 0);
    assert.ok(
      forwards.every((entry) =>
        entry.path.includes("/namespaces/shop/pods/ready-0/portforward?ports=8443")
      ),
    );
    assert.deepEqual(relayPodRequests(sandbox, "POST"), [], "portforward creates no relay Pod");
  } finally {
    await sandbox.close();
  }
});

Deno.test("socks5 command reads credentials from the environment", async () => {
  const backend = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("through the CLI relay\n"),
  );
  const relay = await startRelayProcess([`web.shop.svc:${backend.addr.port}:127.0.0.1`], {
    TRUSTWATCH_SOCKS5_USER: "probe",
    TRUSTWATCH_SOCKS5_PASSWORD: "from-env",
  });
  try {
    const curl = (user: string) =>
      new Deno.Command("curl", {
        args: [
          "--silent",
          "--max-time",
          "20",
          "--socks5-hostname",
          `127.0.0.1:${relay.port}`,
          "--proxy-user",
          user,
          `http://web.shop.svc:${backend.addr.port}/`,
        ],
      }).output();
    const accepted = await curl("probe:from-env");
    assert.equal(accepted.code, 0);
    assert.equal(new TextDecoder().decode(accepted.stdout), "through the CLI relay\n");
    const rejected = await curl("probe:wrong");
    assert.equal(rejected.code, 97);
  } finally {
    await relay.stop();
    await backend.shutdown();
  }
});

Deno.test("socks5 command needs user and password together", async () => {
  const run = await runTrustwatch(["socks5", "--listen", "127.0.0.1:0", "--user", "probe"], {
    unsetEnv: ["TRUSTWATCH_SOCKS5_PASSWORD"],
  });
  assert.equal(run.code, 3);
  assert.match(run.stderr, /--user and --password .* must be set together/);
});
