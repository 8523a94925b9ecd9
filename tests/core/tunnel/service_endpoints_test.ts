import assert from "node:assert/strict";
import { connectToCluster } from "../../../core/kube/client.ts";
import { serviceOfHost } from "../../../core/tunnel/portforward_dialer.ts";
import {
  findServiceBackend,
  NoReadyEndpointError,
} from "../../../core/tunnel/service_endpoints.ts";
import { parseListenAddress } from "../../../cli/socks5.ts";
import { endpointSlice } from "../../sandbox/fixtures.ts";
import { startSandbox } from "../../sandbox/server.ts";

function serviceObject(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "shop" },
    spec: {
      selector: { app: name },
      ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }],
      ...extra,
    },
  };
}

Deno.test("service endpoint lookup follows EndpointSlices", async () => {
  const sandbox = await startSandbox({
    objects: [
      serviceObject("api"),
      endpointSlice({
        namespace: "shop",
        service: "api",
        name: "api-1",
        port: 9443,
        endpoints: [{ pod: "api-old", ready: false }, { pod: "api-new", ready: true }],
      }),
      serviceObject("idle"),
      endpointSlice({
        namespace: "shop",
        service: "idle",
        port: 9443,
        endpoints: [{ pod: "idle-0", ready: false }],
      }),
      serviceObject("empty"),
      serviceObject("external", { type: "ExternalName", externalName: "db.example.com" }),
      serviceObject("manual"),
      endpointSlice({
        namespace: "shop",
        service: "manual",
        port: 5432,
        endpoints: [{ ready: true, address: "127.0.0.9" }],
      }),
    ],
  });
  try {
    const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });

    assert.deepEqual(await findServiceBackend(kube, "shop", "api", 443), {
      kind: "pod",
      endpoint: { namespace: "shop", pod: "api-new", port: 9443 },
    });
    await assert.rejects(
      findServiceBackend(kube, "shop", "idle", 443),
      (error) => error instanceof NoReadyEndpointError && /1 not ready/.test(error.message),
    );
    await assert.rejects(
      findServiceBackend(kube, "shop", "empty", 443),
      /service shop\/empty has no ready endpoint for port 443 \(no endpoints in its EndpointSlices\)/,
    );
    await assert.rejects(
      findServiceBackend(kube, "shop", "absent", 443),
      /service shop\/absent not found/,
    );
    await assert.rejects(
      findServiceBackend(kube, "shop", "api", 80),
      /has no port 80 \(ports: 443\)/,
    );
    assert.deepEqual(await findServiceBackend(kube, "shop", "external", 443), {
      kind: "no-pod",
      reason: "service shop/external is an ExternalName service",
    });
    assert.deepEqual(await findServiceBackend(kube, "shop", "manual", 443), {
      kind: "no-pod",
      reason: "the ready endpoints of service shop/manual are not Pods",
    });
  } finally {
    await sandbox.close();
  }
});

Deno.test("service host names parse into namespace and name", () => {
  assert.deepEqual(serviceOfHost("webhook.cert-manager.svc"), {
    namespace: "cert-manager",
    name: "webhook",
  });
  assert.deepEqual(serviceOfHost("Webhook.Payments.svc.cluster.local"), {
    namespace: "payments",
    name: "webhook",
  });
  assert.equal(serviceOfHost("api.example.com"), undefined);
  assert.equal(serviceOfHost("127.0.0.1"), undefined);
  assert.equal(serviceOfHost("a.b.c.svc"), undefined);
});

Deno.test("socks5 listen address forms parse", () => {
  assert.deepEqual(parseListenAddress(":1080"), { hostname: undefined, port: 1080 });
  assert.deepEqual(parseListenAddress("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListenAddress("[::1]:1080"), { hostname: "::1", port: 1080 });
  assert.throws(() => parseListenAddress("1080"), /invalid --listen "1080"/);
  assert.throws(() => parseListenAddress("::1:1080"), /invalid --listen/);
  assert.throws(() => parseListenAddress(":70000"), /invalid --listen/);
});
