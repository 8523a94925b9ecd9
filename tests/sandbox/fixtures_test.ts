import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { DAY_MS } from "../support/pki.ts";
import { demoFixtures } from "./fixtures.ts";
import { startSandbox } from "./server.ts";

function daysLeft(certificate: X509Certificate): number {
  return Math.round((new Date(certificate.validTo).getTime() - Date.now()) / DAY_MS);
}

function servedLeaf(port: number, servername: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate(false).raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
  });
}

function secretCertificate(objects: { metadata: { name: string } }[], name: string) {
  const secret = objects.find((object) => object.metadata.name === name) as
    | { data: Record<string, string> }
    | undefined;
  assert.ok(secret, `secret ${name} is missing`);
  return new X509Certificate(atob(secret.data["tls.crt"]));
}

Deno.test("demoFixtures backends serve certificates with the planned lifetimes", async () => {
  const demo = await demoFixtures();
  const sandbox = await startSandbox({ objects: demo.objects });
  try {
    const byHost = new Map(
      sandbox.backends.flatMap((backend) => backend.hosts.map((host) => [host, backend.port])),
    );
    const expectations: [string, number][] = [
      ["cert-manager-webhook.cert-manager.svc", 300],
      ["kyverno-svc.kyverno.svc", -3],
      ["prometheus-operator.monitoring.svc", 20],
      ["metrics-server.monitoring.svc", 365],
      ["localhost", 90],
    ];
    assert.equal(byHost.size, expectations.length);
    for (const [host, days] of expectations) {
      const port = byHost.get(host);
      assert.ok(port, `no backend for ${host}`);
      const leaf = await servedLeaf(port, host);
      assert.equal(daysLeft(leaf), days, host);
      assert.ok(leaf.checkHost(host), `${host} is not in the SANs`);
    }
    assert.equal(demo.external.url, `https://localhost:${demo.external.port}`);
    assert.equal(byHost.get("localhost"), demo.external.port);
  } finally {
    await sandbox.close();
  }
});

Deno.test("demoFixtures services point at their backends", async () => {
  const { objects } = await demoFixtures();
  const backends = objects.filter((object) => object.kind === "TLSBackend");
  const services = objects.filter((object) => object.kind === "Service");
  for (const service of services) {
    const host = `${service.metadata.name}.${service.metadata.namespace}.svc`;
    const backend = backends.find((candidate) =>
      (candidate.spec as { hosts: string[] }).hosts.includes(host)
    );
    assert.ok(backend, `no backend for ${host}`);
    const ports = (service.spec as { ports: { port: number }[] }).ports;
    assert.equal(ports[0].port, (backend.spec as { port: number }).port, host);
  }

  const webhookServices = objects
    .filter((object) => object.kind.endsWith("WebhookConfiguration"))
    .flatMap((object) =>
      (object.webhooks as { clientConfig: { service: { name: string; port: number } } }[])
        .map((webhook) => webhook.clientConfig.service)
    );
  for (const reference of webhookServices) {
    const service = services.find((candidate) => candidate.metadata.name === reference.name);
    assert.ok(service, `webhook service ${reference.name} is missing`);
    const ports = (service.spec as { ports: { port: number }[] }).ports;
    assert.equal(reference.port, ports[0].port, reference.name);
  }
});

Deno.test("demoFixtures secrets cover every expiry state", async () => {
  const { objects } = await demoFixtures();
  const secrets = objects.filter((object) => object.kind === "Secret");
  assert.equal(daysLeft(secretCertificate(secrets, "api-tls")), 200);
  assert.equal(daysLeft(secretCertificate(secrets, "checkout-tls")), 20);
  assert.equal(daysLeft(secretCertificate(secrets, "ledger-tls")), 7);
  assert.ok(daysLeft(secretCertificate(secrets, "grafana-tls")) < 0);

  const helm = secrets.find((secret) => secret.type === "helm.sh/release.v1");
  assert.ok(helm);
  const caOnly = secrets.find((secret) => secret.metadata.name === "upstream-ca") as
    | { type: string; data: Record<string, string> }
    | undefined;
  assert.equal(caOnly?.type, "Opaque");
  assert.deepEqual(Object.keys(caOnly?.data ?? {}), ["ca.crt"]);

  const ingresses = objects.filter((object) => object.kind === "Ingress");
  const secretNames = new Set(secrets.map((secret) => secret.metadata.name));
  const referenced = ingresses.flatMap((ingress) =>
    (ingress.spec as { tls: { secretName: string }[] }).tls.map((entry) => entry.secretName)
  );
  assert.deepEqual(referenced.map((name) => secretNames.has(name)), [true, false]);
  assert.ok(secretCertificate(secrets, "api-tls").checkHost("api.payments.example.com"));

  const namespaces = objects.filter((object) => object.kind === "Namespace")
    .map((object) => object.metadata.name);
  assert.deepEqual(namespaces, [
    "cert-manager",
    "payments",
    "monitoring",
    "ingress-nginx",
    "kyverno",
  ]);
});

Deno.test("demoFixtures webhooks and APIServices have the planned policies", async () => {
  const { objects } = await demoFixtures();
  const policies = objects
    .filter((object) => object.kind.endsWith("WebhookConfiguration"))
    .map((object) => [
      object.kind,
      object.metadata.name,
      (object.webhooks as { failurePolicy: string }[])[0].failurePolicy,
    ]);
  assert.deepEqual(policies, [
    ["ValidatingWebhookConfiguration", "cert-manager-webhook", "Fail"],
    ["MutatingWebhookConfiguration", "kyverno-resource-mutating-webhook-cfg", "Fail"],
    ["ValidatingWebhookConfiguration", "prometheus-operator-admission", "Ignore"],
  ]);

  const apiServices = objects.filter((object) => object.kind === "APIService");
  const metrics = apiServices.find((object) => object.metadata.name === "v1beta1.metrics.k8s.io");
  assert.equal((metrics?.spec as { insecureSkipTLSVerify?: boolean }).insecureSkipTLSVerify, true);
  const local = apiServices.find((object) => object.metadata.name === "v1.apps");
  assert.equal((local?.spec as { service?: unknown }).service, undefined);
});
