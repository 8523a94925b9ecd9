/**
 * Checks the sandbox with the real kubectl client: every served resource must list and get
 * through `kubectl get`, or trustwatch has only been tested against our own reading of the API.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { demoFixtures } from "./fixtures.ts";
import { loadManifests } from "./manifests.ts";
import { joinApiVersion, type ResourceType } from "./resources.ts";
import { type KubeObject, type Sandbox, startSandbox } from "./server.ts";

const KUBECTL = Deno.env.get("KUBECTL") ?? "kubectl";
const REALDATA_DIR = Deno.env.get("TRUSTWATCH_REALDATA") ??
  fileURLToPath(new URL("../../../shared/realdata/", import.meta.url));
const REALDATA_MANIFEST_DIRS = ["k8s", "bugs"].map((name) => `${REALDATA_DIR}/${name}`);

const kubectlMissing = await missingReason();
const realdataMissing = await realdataMissingReason();
if (kubectlMissing) console.log(`skipping kubectl tests: ${kubectlMissing}`);
if (realdataMissing) console.log(`skipping real-data kubectl test: ${realdataMissing}`);

async function missingReason(): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(KUBECTL, { args: ["version", "--client"] }).output();
    return output.success ? undefined : `${KUBECTL} version --client exited ${output.code}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${KUBECTL} is not installed`;
    throw error;
  }
}

async function realdataMissingReason(): Promise<string | undefined> {
  for (const dir of REALDATA_MANIFEST_DIRS) {
    try {
      await Deno.stat(dir);
    } catch {
      return `${dir} not found (set TRUSTWATCH_REALDATA)`;
    }
  }
  return undefined;
}

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(sandbox: Sandbox, cacheDir: string, args: string[]): Promise<KubectlResult> {
  const output = await new Deno.Command(KUBECTL, {
    args: ["--kubeconfig", sandbox.kubeconfigPath, "--cache-dir", cacheDir, ...args],
    env: { HOME: cacheDir },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs kubectl and parses its JSON output, failing with kubectl's stderr when it exits non-zero. */
async function kubectlJson(
  sandbox: Sandbox,
  cacheDir: string,
  args: string[],
): Promise<{ items?: KubeObject[]; metadata?: KubeObject["metadata"] }> {
  const result = await kubectl(sandbox, cacheDir, args);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function resourceArgument(type: ResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

function keys(objects: KubeObject[]): string[] {
  return objects.map((object) => `${object.metadata.namespace ?? ""}/${object.metadata.name}`)
    .sort();
}

function listableTypes(sandbox: Sandbox): ResourceType[] {
  return sandbox.objects.types().filter((type) => type.verbs.includes("list"));
}

async function withKubectlSandbox(
  options: Parameters<typeof startSandbox>[0],
  body: (sandbox: Sandbox, cacheDir: string) => Promise<void>,
): Promise<void> {
  const cacheDir = await Deno.makeTempDir({ prefix: "trustwatch-kubectl-cache-" });
  const sandbox = await startSandbox(options);
  try {
    await body(sandbox, cacheDir);
  } finally {
    await sandbox.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
}

/** Objects for the always-served kinds that the demo cluster does not contain. */
function extraObjects(): KubeObject[] {
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "trust-bundle", namespace: "payments" },
      data: { "ca.crt": "" },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "api-0", namespace: "payments" },
      spec: { containers: [{ name: "api", image: "example/api:1" }] },
      status: { phase: "Running" },
    },
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kyverno-svc", namespace: "kyverno" },
      subsets: [],
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: "kyverno-svc-abcde",
        namespace: "kyverno",
        labels: { "kubernetes.io/service-name": "kyverno-svc" },
      },
      addressType: "IPv4",
      ports: [{ name: "https", port: 9443, protocol: "TCP" }],
      endpoints: [{ addresses: ["127.0.0.7"], conditions: { ready: true } }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cert-manager-webhook", namespace: "cert-manager" },
      spec: { replicas: 1 },
    },
    {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "certificates.cert-manager.io" },
      spec: { group: "cert-manager.io", names: { kind: "Certificate", plural: "certificates" } },
    },
  ];
}

Deno.test({
  name: "kubectl lists every resource the demo sandbox serves",
  ignore: kubectlMissing !== undefined,
  async fn() {
    const demo = await demoFixtures();
    const objects = [...demo.objects, ...extraObjects()];
    await withKubectlSandbox({ objects }, async (sandbox, cacheDir) => {
      const types = listableTypes(sandbox);
      assert.ok(types.length >= 12, `only ${types.length} listable types`);

      for (const type of types) {
        const resource = resourceArgument(type);
        const list = await kubectlJson(sandbox, cacheDir, ["get", resource, "-A", "-o", "json"]);
        const expected = keys(sandbox.objects.listByType(type));
        assert.ok(expected.length > 0, `${resource}: the test cluster has no objects`);
        assert.deepEqual(keys(list.items ?? []), expected, resource);
      }
    });
  },
});

Deno.test({
  name: "kubectl lists in one namespace and gets by name",
  ignore: kubectlMissing !== undefined,
  async fn() {
    const demo = await demoFixtures();
    await withKubectlSandbox({ objects: demo.objects }, async (sandbox, cacheDir) => {
      const inPayments = await kubectlJson(sandbox, cacheDir, [
        "get",
        "secrets",
        "-n",
        "payments",
        "-o",
        "json",
      ]);
      assert.deepEqual(keys(inPayments.items ?? []), [
        "payments/api-tls",
        "payments/checkout-tls",
        "payments/ledger-tls",
      ]);

      const one = await kubectlJson(sandbox, cacheDir, [
        "get",
        "secret",
        "api-tls",
        "-n",
        "payments",
        "-o",
        "json",
      ]);
      assert.equal(one.metadata?.name, "api-tls");

      const webhook = await kubectlJson(sandbox, cacheDir, [
        "get",
        "validatingwebhookconfiguration",
        "cert-manager-webhook",
        "-o",
        "json",
      ]);
      assert.equal(webhook.metadata?.name, "cert-manager-webhook");

      const missing = await kubectl(sandbox, cacheDir, ["get", "secret", "nope", "-n", "payments"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /NotFound.*secrets "nope" not found/);
    });
  },
});

Deno.test({
  name: "kubectl reports a forbidden namespace",
  ignore: kubectlMissing !== undefined,
  async fn() {
    const demo = await demoFixtures();
    const options = { objects: demo.objects, forbiddenNamespaces: ["payments"] };
    await withKubectlSandbox(options, async (sandbox, cacheDir) => {
      const denied = await kubectl(sandbox, cacheDir, ["get", "secrets", "-n", "payments"]);
      assert.equal(denied.code, 1);
      assert.match(
        denied.stderr,
        /Forbidden.*cannot list resource "secrets" in API group "" in the namespace "payments"/,
      );

      const allowed = await kubectl(sandbox, cacheDir, ["get", "secrets", "-n", "monitoring"]);
      assert.equal(allowed.code, 0, allowed.stderr);
    });
  },
});

Deno.test({
  name: "kubectl lists every kind in the real-data manifests",
  ignore: kubectlMissing !== undefined || realdataMissing !== undefined,
  async fn() {
    const loaded = await loadManifests(REALDATA_MANIFEST_DIRS);
    assert.ok(loaded.length > 50, `only ${loaded.length} objects loaded`);

    await withKubectlSandbox({ objects: loaded }, async (sandbox, cacheDir) => {
      const loadedKinds = new Set(loaded.map((object) => `${object.apiVersion}/${object.kind}`));
      const types = listableTypes(sandbox).filter((type) =>
        loadedKinds.has(`${joinApiVersion(type.group, type.version)}/${type.kind}`)
      );
      assert.equal(types.length, loadedKinds.size, "every loaded kind is served");

      const listedNames = new Map<string, Set<string>>();
      for (const type of types) {
        const resource = resourceArgument(type);
        const list = await kubectlJson(sandbox, cacheDir, ["get", resource, "-A", "-o", "json"]);
        assert.deepEqual(keys(list.items ?? []), keys(sandbox.objects.listByType(type)), resource);
        const kind = `${joinApiVersion(type.group, type.version)}/${type.kind}`;
        listedNames.set(kind, new Set((list.items ?? []).map((item) => item.metadata.name)));
      }

      for (const object of loaded) {
        const names = listedNames.get(`${object.apiVersion}/${object.kind}`);
        assert.ok(
          names?.has(object.metadata.name),
          `kubectl did not list ${object.kind} ${object.metadata.name}`,
        );
      }
    });
  },
});
