import assert from "node:assert/strict";
import { connectToCluster } from "../../core/kube/client.ts";
import { Prober } from "../../core/probe/prober.ts";
import { Socks5Dialer } from "../../core/probe/dialer.ts";
import { startPortForward } from "../../core/tunnel/port_forward.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { SandboxClient } from "./_test_client.ts";
import { backendPod, endpointSlice, service, tlsBackend } from "./fixtures.ts";
import { freePort, type Sandbox, startSandbox } from "./server.ts";

/** Time allowed for a Pod to reach an expected state, in milliseconds; relays start a subprocess. */
const POD_STATE_TIMEOUT_MS = 90_000;

const KUBECTL_AVAILABLE = await new Deno.Command("kubectl", { args: ["version", "--client"] })
  .output().then((output) => output.success, () => false);
if (!KUBECTL_AVAILABLE) console.log("skipping kubectl pod tests: kubectl is not installed");

function relayPod(name: string, image = "trustwatch:test", command = ["/trustwatch", "socks5"]) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "relay", image, command }] },
  };
}

/** Reads watch events from the sandbox until `until` returns true for one of them. */
async function watchUntil(
  sandbox: Sandbox,
  path: string,
  until: (event: { type: string; object: { status?: Record<string, unknown> } }) => boolean,
): Promise<{ type: string; object: { status?: Record<string, unknown> } }[]> {
  const client = Deno.createHttpClient({ caCerts: [sandbox.caPem] });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), POD_STATE_TIMEOUT_MS);
  const events: { type: string; object: { status?: Record<string, unknown> } }[] = [];
  try {
    const response = await fetch(sandbox.url + path, {
      headers: { authorization: `Bearer ${sandbox.token}` },
      client,
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    let buffered = "";
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines.filter((text) => text.trim() !== "")) {
        const event = JSON.parse(line);
        events.push(event);
        if (until(event)) return events;
      }
    }
    assert.fail(`watch ended without the expected event; got ${JSON.stringify(events)}`);
  } finally {
    clearTimeout(timer);
    controller.abort();
    client.close();
  }
}

function waitingReason(object: { status?: Record<string, unknown> }): string | undefined {
  const statuses = (object.status?.containerStatuses ?? []) as {
    state?: { waiting?: { reason?: string } };
  }[];
  return statuses[0]?.state?.waiting?.reason;
}

Deno.test("sandbox pod runs the relay and is deleted", async () => {
  const sandbox = await startSandbox({});
  const client = new SandboxClient(sandbox);
  try {
    const created = await client.request("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: relayPod("relay-a"),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status.phase, "Pending");

    const events = await watchUntil(
      sandbox,
      "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Drelay-a",
      (event) => event.object.status?.phase === "Running",
    );
    assert.equal(events[0].type, "ADDED");
    assert.equal(events.at(-1)!.type, "MODIFIED");
    assert.equal(sandbox.pods.runningRelays().length, 1);

    const fetched = await client.request("/api/v1/namespaces/default/pods/relay-a");
    assert.equal(fetched.body.status.phase, "Running");
    assert.equal(fetched.body.status.containerStatuses[0].ready, true);

    const deleted = await client.request("/api/v1/namespaces/default/pods/relay-a", {
      method: "DELETE",
    });
    assert.equal(deleted.status, 200);
    assert.deepEqual(sandbox.pods.runningRelays(), []);
    const gone = await client.request("/api/v1/namespaces/default/pods/relay-a");
    assert.equal(gone.status, 404);
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test("sandbox pod reports an image that cannot be pulled", async () => {
  const sandbox = await startSandbox({ unpullableImages: ["example.org/missing:1"] });
  const client = new SandboxClient(sandbox);
  try {
    for (
      const [name, image] of [["pull-a", "example.org/missing:1"], [
        "pull-b",
        "registry.invalid/x:1",
      ]]
    ) {
      const created = await client.request("/api/v1/namespaces/default/pods", {
        method: "POST",
        body: relayPod(name, image),
      });
      assert.equal(created.status, 201);

      const events = await watchUntil(
        sandbox,
        `/api/v1/namespaces/default/pods?watch=1&fieldSelector=metadata.name%3D${name}`,
        (event) => waitingReason(event.object) === "ImagePullBackOff",
      );
      const reasons = events.map((event) => waitingReason(event.object));
      assert.ok(reasons.includes("ErrImagePull"), `reasons: ${reasons.join(", ")}`);
    }
    assert.deepEqual(sandbox.pods.runningRelays(), []);
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test("sandbox pod with unknown command crash-loops", async () => {
  const sandbox = await startSandbox({});
  const client = new SandboxClient(sandbox);
  try {
    await client.request("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: relayPod("crash", "busybox:1", ["/bin/false"]),
    });
    await watchUntil(
      sandbox,
      "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dcrash",
      (event) => waitingReason(event.object) === "CrashLoopBackOff",
    );
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test("sandbox pod create rejects duplicates and bad bodies", async () => {
  const sandbox = await startSandbox({ forbiddenNamespaces: ["locked"] });
  const client = new SandboxClient(sandbox);
  try {
    const body = relayPod("dup", "busybox:1", ["/bin/false"]);
    assert.equal(
      (await client.request("/api/v1/namespaces/default/pods", { method: "POST", body })).status,
      201,
    );
    const again = await client.request("/api/v1/namespaces/default/pods", { method: "POST", body });
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, "AlreadyExists");

    const noContainers = await client.request("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: { kind: "Pod", metadata: { name: "empty" }, spec: { containers: [] } },
    });
    assert.equal(noContainers.status, 422);

    const forbidden = await client.request("/api/v1/namespaces/locked/pods", {
      method: "POST",
      body: { ...body, metadata: { name: "x" } },
    });
    assert.equal(forbidden.status, 403);

    const missing = await client.request("/api/v1/namespaces/default/pods/absent", {
      method: "DELETE",
    });
    assert.equal(missing.status, 404);
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test("sandbox port-forward reaches the relay and the backend", async () => {
  const port = await freePort();
  const leaf = await issueCertificate({
    commonName: "web.shop.svc",
    dnsNames: ["web.shop.svc"],
    notAfter: daysFromNow(30),
  });
  const sandbox = await startSandbox({
    objects: [
      tlsBackend({
        name: "shop-web",
        hosts: ["web.shop.svc"],
        port,
        chainPem: leaf.certPem,
        keyPem: leaf.keyPem,
      }),
      service({ namespace: "shop", name: "web", port }),
      backendPod({ namespace: "shop", name: "web-0", backend: "shop-web", containerPort: 8443 }),
    ],
  });
  const client = new SandboxClient(sandbox);
  const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
  try {
    const toPod = await startPortForward(kube, { namespace: "shop", pod: "web-0", port: 8443 });
    try {
      const direct = await new Prober().probe({
        host: "127.0.0.1",
        port: toPod.port,
        sni: "web.shop.svc",
      });
      assert.equal(direct.ok, true, direct.error);
      assert.deepEqual(direct.chain, [leaf.der]);
    } finally {
      await toPod.close();
    }

    await client.request("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: relayPod("relay-pf"),
    });
    await watchUntil(
      sandbox,
      "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Drelay-pf",
      (event) => event.object.status?.phase === "Running",
    );
    const toRelay = await startPortForward(kube, {
      namespace: "default",
      pod: "relay-pf",
      port: 1080,
    });
    try {
      const prober = new Prober({
        dialer: new Socks5Dialer({ host: "127.0.0.1", port: toRelay.port }),
      });
      const viaRelay = await prober.probe({ host: "web.shop.svc", port });
      assert.equal(viaRelay.ok, true, viaRelay.error);
      assert.deepEqual(viaRelay.chain, [leaf.der]);
    } finally {
      await toRelay.close();
    }

    const forwards = sandbox.requestLog.filter((entry) => entry.path.includes("/portforward"));
    assert.ok(forwards.length >= 2, JSON.stringify(forwards));
    assert.ok(forwards.every((entry) => entry.status === 101), JSON.stringify(forwards));
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test("sandbox port-forward rejects requests without v4 protocol", async () => {
  const sandbox = await startSandbox({
    objects: [
      backendPod({ namespace: "shop", name: "web-0", backend: "none", containerPort: 8443 }),
    ],
  });
  const client = new SandboxClient(sandbox);
  try {
    const plain = await client.request("/api/v1/namespaces/shop/pods/web-0/portforward?ports=8443");
    assert.equal(plain.status, 400);
    assert.match(plain.body.message, /WebSocket/);
  } finally {
    client.close();
    await sandbox.close();
  }
});

Deno.test({
  name: "sandbox pods and endpointslices work with kubectl",
  ignore: !KUBECTL_AVAILABLE,
  fn: async () => {
    const sandbox = await startSandbox({
      objects: [
        backendPod({ namespace: "shop", name: "web-0", backend: "none", containerPort: 8443 }),
        endpointSlice({
          namespace: "shop",
          service: "web",
          port: 8443,
          endpoints: [{ pod: "web-0", ready: true }],
        }),
      ],
    });
    const home = await Deno.makeTempDir();
    try {
      for (const resource of ["pods", "endpointslices.discovery.k8s.io"]) {
        const output = await new Deno.Command("kubectl", {
          args: [
            "--kubeconfig",
            sandbox.kubeconfigPath,
            "--cache-dir",
            home,
            "get",
            resource,
            "-A",
            "-o",
            "json",
          ],
          env: { HOME: home },
        }).output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, stderr);
        const list = JSON.parse(new TextDecoder().decode(output.stdout));
        assert.equal(list.items.length, 1, `${resource}: ${JSON.stringify(list.items)}`);
      }
    } finally {
      await Deno.remove(home, { recursive: true });
      await sandbox.close();
    }
  },
});
