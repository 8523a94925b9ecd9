import assert from "node:assert/strict";
import { connect, type PeerCertificate } from "node:tls";
import { X509Certificate } from "node:crypto";
import { daysFromNow, issueCertificate, issueChain, pemBundle } from "../support/pki.ts";
import { SandboxClient } from "./_test_client.ts";
import { namespace, service, tlsBackend, tlsSecret } from "./fixtures.ts";
import { freePort, type KubeObject, type Sandbox, startSandbox } from "./server.ts";

const CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function secret(ns: string, name: string, type = "kubernetes.io/tls"): KubeObject {
  return tlsSecret({ namespace: ns, name, certPem: CERT_PEM, type });
}

function withLabels(object: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...object, metadata: { ...object.metadata, labels } };
}

async function withSandbox(
  options: Parameters<typeof startSandbox>[0],
  body: (sandbox: Sandbox, client: SandboxClient) => Promise<void>,
): Promise<void> {
  const sandbox = await startSandbox(options);
  const client = new SandboxClient(sandbox);
  try {
    await body(sandbox, client);
  } finally {
    client.close();
    await sandbox.close();
  }
}

function names(list: { items: KubeObject[] }): string[] {
  return list.items.map((item) => `${item.metadata.namespace ?? ""}/${item.metadata.name}`);
}

Deno.test("list pages through secrets with limit and continue", async () => {
  const objects = ["a", "b", "c", "d", "e"].map((name) => secret("team-a", name));
  objects.push(secret("default", "z"));

  await withSandbox({ objects }, async (_sandbox, client) => {
    const first = await client.request("/api/v1/secrets?limit=2");
    assert.equal(first.status, 200);
    assert.equal(first.body.kind, "SecretList");
    assert.equal(first.body.apiVersion, "v1");
    assert.deepEqual(names(first.body), ["default/z", "team-a/a"]);
    assert.equal(first.body.metadata.remainingItemCount, 4);
    assert.equal(typeof first.body.metadata.continue, "string");

    const token = encodeURIComponent(first.body.metadata.continue);
    const second = await client.request(`/api/v1/secrets?limit=2&continue=${token}`);
    assert.deepEqual(names(second.body), ["team-a/b", "team-a/c"]);
    assert.equal(second.body.metadata.remainingItemCount, 2);

    const next = encodeURIComponent(second.body.metadata.continue);
    const last = await client.request(`/api/v1/secrets?limit=2&continue=${next}`);
    assert.deepEqual(names(last.body), ["team-a/d", "team-a/e"]);
    assert.equal(last.body.metadata.continue, undefined);
    assert.equal(last.body.metadata.remainingItemCount, undefined);
  });
});

Deno.test("list rejects a malformed continue token", async () => {
  await withSandbox({ objects: [secret("team-a", "a")] }, async (_sandbox, client) => {
    const response = await client.request("/api/v1/secrets?limit=1&continue=not-a-token");
    assert.equal(response.status, 400);
    assert.equal(response.body.kind, "Status");
    assert.equal(response.body.reason, "BadRequest");
  });
});

Deno.test("list items carry kind, apiVersion and server metadata", async () => {
  await withSandbox({ objects: [secret("team-a", "a")] }, async (_sandbox, client) => {
    const response = await client.request("/api/v1/namespaces/team-a/secrets");
    const item = response.body.items[0];
    assert.equal(item.kind, "Secret");
    assert.equal(item.apiVersion, "v1");
    assert.match(item.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(item.metadata.resourceVersion, /^\d+$/);
    assert.match(item.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof response.body.metadata.resourceVersion, "string");
  });
});

Deno.test("fieldSelector filters secrets by type", async () => {
  const objects = [
    secret("team-a", "tls"),
    secret("team-a", "opaque", "Opaque"),
    secret("team-b", "helm", "helm.sh/release.v1"),
  ];
  await withSandbox({ objects }, async (sandbox, client) => {
    const tls = await client.request(
      `/api/v1/secrets?fieldSelector=${encodeURIComponent("type=kubernetes.io/tls")}`,
    );
    assert.deepEqual(names(tls.body), ["team-a/tls"]);

    const notHelm = await client.request(
      `/api/v1/secrets?fieldSelector=${encodeURIComponent("type!=helm.sh/release.v1")}`,
    );
    assert.deepEqual(names(notHelm.body), ["team-a/opaque", "team-a/tls"]);

    const combined = await client.request(
      `/api/v1/secrets?fieldSelector=${
        encodeURIComponent("metadata.namespace=team-a,metadata.name=opaque")
      }`,
    );
    assert.deepEqual(names(combined.body), ["team-a/opaque"]);

    const logged = sandbox.requestLog.filter((entry) => entry.path.includes("fieldSelector"));
    assert.equal(logged.length, 3);
  });
});

Deno.test("fieldSelector on an unsupported field is a 400 Status", async () => {
  await withSandbox({ objects: [] }, async (_sandbox, client) => {
    const response = await client.request("/api/v1/configmaps?fieldSelector=type%3Dfoo");
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "field label not supported: type",
      reason: "BadRequest",
      code: 400,
    });
  });
});

Deno.test("labelSelector supports equality, set and existence", async () => {
  const objects = [
    withLabels(secret("ns", "a"), { app: "web", tier: "front" }),
    withLabels(secret("ns", "b"), { app: "api" }),
    withLabels(secret("ns", "c"), { app: "db", managed: "yes" }),
    secret("ns", "d"),
  ];
  const cases: [string, string[]][] = [
    ["app=web", ["ns/a"]],
    ["app!=web", ["ns/b", "ns/c", "ns/d"]],
    ["managed", ["ns/c"]],
    ["!managed", ["ns/a", "ns/b", "ns/d"]],
    ["app in (web,api)", ["ns/a", "ns/b"]],
    ["app notin (web,api)", ["ns/c", "ns/d"]],
    ["app in (web,api),tier=front", ["ns/a"]],
  ];
  await withSandbox({ objects }, async (_sandbox, client) => {
    for (const [selector, expected] of cases) {
      const response = await client.request(
        `/api/v1/namespaces/ns/secrets?labelSelector=${encodeURIComponent(selector)}`,
      );
      assert.equal(response.status, 200, selector);
      assert.deepEqual(names(response.body), expected, selector);
    }
  });
});

Deno.test("get returns an object or a NotFound Status", async () => {
  await withSandbox({ objects: [secret("team-a", "api-tls")] }, async (_sandbox, client) => {
    const found = await client.request("/api/v1/namespaces/team-a/secrets/api-tls");
    assert.equal(found.status, 200);
    assert.equal(found.body.metadata.name, "api-tls");
    assert.equal(found.body.kind, "Secret");

    const missing = await client.request("/api/v1/namespaces/team-a/secrets/other");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets "other" not found',
      reason: "NotFound",
      details: { name: "other", kind: "secrets" },
      code: 404,
    });
  });
});

Deno.test("absent API group is a 404 Status", async () => {
  await withSandbox({ objects: [] }, async (_sandbox, client) => {
    for (const path of ["/apis/cert-manager.io", "/apis/cert-manager.io/v1/certificates"]) {
      const response = await client.request(path);
      assert.equal(response.status, 404, path);
      assert.equal(response.body.kind, "Status", path);
      assert.equal(response.body.reason, "NotFound", path);
    }
  });
});

Deno.test("discovery serves built-in and loaded groups", async () => {
  const gateway = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: { name: "edge", namespace: "infra" },
  };
  await withSandbox({ objects: [gateway] }, async (_sandbox, client) => {
    const groups = await client.request("/apis");
    assert.equal(groups.body.kind, "APIGroupList");
    const groupNames = groups.body.groups.map((group: { name: string }) => group.name);
    for (
      const expected of [
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authorization.k8s.io",
        "gateway.networking.k8s.io",
        "networking.k8s.io",
      ]
    ) {
      assert.ok(groupNames.includes(expected), expected);
    }

    const resources = await client.request("/apis/gateway.networking.k8s.io/v1");
    assert.deepEqual(resources.body.resources, [{
      name: "gateways",
      singularName: "gateway",
      namespaced: true,
      kind: "Gateway",
      verbs: ["get", "list"],
    }]);

    const core = await client.request("/api/v1");
    const secrets = core.body.resources.find((entry: { name: string }) => entry.name === "secrets");
    assert.deepEqual(secrets, {
      name: "secrets",
      singularName: "secret",
      namespaced: true,
      kind: "Secret",
      verbs: ["get", "list"],
    });

    const version = await client.request("/version");
    assert.equal(version.body.major, "1");
    const api = await client.request("/api");
    assert.deepEqual(api.body.versions, ["v1"]);
  });
});

Deno.test("namespaces include those objects use", async () => {
  const objects = [namespace("declared"), secret("implied", "a")];
  await withSandbox({ objects }, async (_sandbox, client) => {
    const list = await client.request("/api/v1/namespaces");
    assert.deepEqual(names(list.body), ["/declared", "/implied"]);
    const implied = await client.request("/api/v1/namespaces/implied");
    assert.equal(implied.status, 200);
    assert.equal(implied.body.status.phase, "Active");
  });
});

Deno.test("request without the token is a 401 Status", async () => {
  await withSandbox({ token: "right" }, async (sandbox, client) => {
    for (const token of [null, "wrong"]) {
      const response = await client.request("/api/v1/secrets", { token });
      assert.equal(response.status, 401);
      assert.deepEqual(response.body, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
    assert.equal(sandbox.token, "right");
    const version = await client.request("/version", { token: null });
    assert.equal(version.status, 401);
  });
});

Deno.test("forbidden namespace is a 403 Status", async () => {
  const objects = [secret("team-a", "a"), secret("team-b", "b")];
  await withSandbox({ objects, forbiddenNamespaces: ["team-b"] }, async (sandbox, client) => {
    const allowed = await client.request("/api/v1/namespaces/team-a/secrets");
    assert.equal(allowed.status, 200);

    const denied = await client.request("/api/v1/namespaces/team-b/secrets");
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets is forbidden: User "sandbox" cannot list resource "secrets" in API ' +
        'group "" in the namespace "team-b"',
      reason: "Forbidden",
      details: { kind: "secrets" },
      code: 403,
    });

    const get = await client.request("/api/v1/namespaces/team-b/secrets/b");
    assert.equal(get.status, 403);
    assert.match(get.body.message, /^secrets "b" is forbidden: .* cannot get resource/);

    const clusterWide = await client.request("/api/v1/secrets");
    assert.equal(clusterWide.status, 403);
    assert.match(clusterWide.body.message, /at the cluster scope$/);

    const webhooks = await client.request(
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    );
    assert.equal(webhooks.status, 200);

    const forbiddenCount = sandbox.requestLog.filter((entry) => entry.status === 403).length;
    assert.equal(forbiddenCount, 3);
  });
});

Deno.test("forbidNamespaceList denies listing namespaces", async () => {
  await withSandbox({ forbidNamespaceList: true }, async (_sandbox, client) => {
    const response = await client.request("/api/v1/namespaces");
    assert.equal(response.status, 403);
    assert.equal(response.body.reason, "Forbidden");
  });
});

Deno.test("SelfSubjectAccessReview reflects forbidden namespaces", async () => {
  const options = { forbiddenNamespaces: ["team-b"], forbidNamespaceList: true };
  await withSandbox(options, async (_sandbox, client) => {
    const review = async (attributes: Record<string, string>) => {
      const response = await client.request(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {
          method: "POST",
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: attributes },
          },
        },
      );
      assert.equal(response.status, 201);
      assert.equal(response.body.kind, "SelfSubjectAccessReview");
      assert.deepEqual(response.body.spec.resourceAttributes, attributes);
      return response.body.status.allowed;
    };

    assert.equal(await review({ verb: "list", resource: "secrets", namespace: "team-a" }), true);
    assert.equal(await review({ verb: "list", resource: "secrets", namespace: "team-b" }), false);
    assert.equal(await review({ verb: "get", resource: "secrets", namespace: "team-b" }), false);
    assert.equal(await review({ verb: "list", resource: "secrets" }), false);
    assert.equal(await review({ verb: "list", resource: "namespaces" }), false);
    assert.equal(
      await review({
        verb: "list",
        resource: "validatingwebhookconfigurations",
        group: "admissionregistration.k8s.io",
      }),
      true,
    );
  });
});

Deno.test("write verbs are a 405 Status", async () => {
  await withSandbox({}, async (_sandbox, client) => {
    const response = await client.request("/api/v1/namespaces/a/secrets", {
      method: "POST",
      body: {},
    });
    assert.equal(response.status, 405);
    assert.equal(response.body.reason, "MethodNotAllowed");
  });
});

Deno.test("latencyMs delays every response", async () => {
  await withSandbox({ latencyMs: 150 }, async (_sandbox, client) => {
    const started = performance.now();
    await client.request("/version");
    assert.ok(performance.now() - started >= 140);
  });
});

Deno.test("objects added while running are served", async () => {
  await withSandbox({}, async (sandbox, client) => {
    sandbox.objects.add(secret("late", "added"));
    const added = await client.request("/api/v1/namespaces/late/secrets/added");
    assert.equal(added.status, 200);
    assert.equal(sandbox.objects.list("Secret").length, 1);

    assert.equal(sandbox.objects.delete("Secret", "late", "added"), true);
    const deleted = await client.request("/api/v1/namespaces/late/secrets/added");
    assert.equal(deleted.status, 404);
  });
});

Deno.test("kubeconfig names the sandbox context and CA", async () => {
  await withSandbox({ token: "kubeconfig-token" }, async (sandbox) => {
    const text = await Deno.readTextFile(sandbox.kubeconfigPath);
    assert.match(text, /current-context: sandbox/);
    assert.match(text, /token: kubeconfig-token/);
    assert.ok(text.includes(`server: ${sandbox.url}`));
    assert.ok(text.includes(btoa(sandbox.caPem)));
  });
});

Deno.test("apiServerCertificate sets the serving certificate validity", async () => {
  const notAfter = daysFromNow(-2);
  const notBefore = daysFromNow(-30);
  await withSandbox({ apiServerCertificate: { notAfter, notBefore } }, async (sandbox) => {
    const peer = await peerChain(Number(new URL(sandbox.url).port), "localhost");
    const leaf = new X509Certificate(peer[0]);
    assert.equal(new Date(leaf.validTo).getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
    assert.ok(leaf.checkIP("127.0.0.1"));
    assert.ok(leaf.checkHost("localhost"));
    assert.ok(leaf.verify(new X509Certificate(sandbox.caPem).publicKey));
  });
});

Deno.test("TLSBackend serves its chain", async () => {
  const chain = await issueChain({ dnsNames: ["hook.team-a.svc"], label: "backend test" });
  const port = await freePort();
  const objects = [
    service({ namespace: "team-a", name: "hook", port }),
    tlsBackend({
      name: "hook",
      hosts: ["hook.team-a.svc"],
      port,
      chainPem: pemBundle(chain.leaf, chain.intermediate),
      keyPem: chain.leaf.keyPem,
    }),
  ];
  await withSandbox({ objects }, async (sandbox, client) => {
    assert.deepEqual(sandbox.resolveEntries, [`hook.team-a.svc:${port}:127.0.0.1`]);
    assert.deepEqual(sandbox.backends, [{ name: "hook", port, hosts: ["hook.team-a.svc"] }]);

    const peer = await peerChain(port, "hook.team-a.svc");
    assert.equal(peer.length, 2);
    assert.equal(new X509Certificate(peer[0]).serialNumber, chain.leaf.serialHex);
    assert.equal(new X509Certificate(peer[1]).serialNumber, chain.intermediate.serialHex);

    const backends = await client.request("/apis/sandbox.trustwatch.dev/v1");
    assert.equal(backends.status, 404);
  });
});

Deno.test("TLSBackend answers an HTTP request with 200", async () => {
  const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"] });
  const port = await freePort();
  const backend = tlsBackend({
    name: "plain",
    hosts: ["localhost"],
    port,
    chainPem: leaf.certPem,
    keyPem: leaf.keyPem,
  });
  await withSandbox({ objects: [backend] }, async () => {
    const client = Deno.createHttpClient({ caCerts: [leaf.certPem] });
    try {
      const response = await fetch(`https://localhost:${port}/`, { client });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "ok\n");
    } finally {
      client.close();
    }
  });
});

/** Completes a handshake without verification and returns the served chain as DER, leaf first. */
function peerChain(port: number, servername: string): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const chain: Uint8Array[] = [];
      let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (current?.raw && !seen.has(current.fingerprint256)) {
        seen.add(current.fingerprint256);
        chain.push(new Uint8Array(current.raw));
        current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate })
          .issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
  });
}
