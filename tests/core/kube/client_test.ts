import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import {
  type ConnectOptions,
  connectToCluster,
  describeClusterError,
  type KubeClient,
  KubeconfigError,
} from "../../../core/kube/client.ts";
import { freePort, type Sandbox, startSandbox } from "../../sandbox/server.ts";

// deno-lint-ignore no-explicit-any
type KubeconfigDocument = Record<string, any>;

/** Environment variables that choose a kubeconfig; each test sets them explicitly. */
const KUBECONFIG_ENV = [
  "KUBECONFIG",
  "HOME",
  "KUBERNETES_SERVICE_HOST",
  "KUBERNETES_SERVICE_PORT",
  "TRUSTWATCH_SERVICE_ACCOUNT_ROOT",
];

/** Runs `test` with a sandbox and a temporary directory, and removes both afterwards. */
async function withSandbox(test: (sandbox: Sandbox, dir: string) => Promise<void>): Promise<void> {
  const sandbox = await startSandbox({});
  const dir = await Deno.makeTempDir({ prefix: "trustwatch-kubeconfig-test-" });
  try {
    await test(sandbox, dir);
  } finally {
    await sandbox.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Connects with `env` as the only kubeconfig-related environment (an empty HOME, so no
 * ~/.kube/config is found), restoring the previous values afterwards.
 */
async function connectWithEnv(
  env: Record<string, string>,
  options: ConnectOptions = {},
): Promise<KubeClient> {
  const saved = new Map(KUBECONFIG_ENV.map((name) => [name, Deno.env.get(name)]));
  const home = await Deno.makeTempDir({ prefix: "trustwatch-home-" });
  try {
    for (const name of KUBECONFIG_ENV) Deno.env.delete(name);
    Deno.env.set("HOME", home);
    for (const [name, value] of Object.entries(env)) Deno.env.set(name, value);
    return await connectToCluster(options);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    await Deno.remove(home, { recursive: true });
  }
}

async function sandboxDocument(sandbox: Sandbox): Promise<KubeconfigDocument> {
  return parse(await Deno.readTextFile(sandbox.kubeconfigPath));
}

async function writeDocument(path: string, document: KubeconfigDocument): Promise<string> {
  await Deno.writeTextFile(path, stringify(document), { mode: 0o600 });
  return path;
}

/** Returns a kubeconfig whose context `name` points at a cluster of the same name at `server`. */
function singleContext(name: string, server: string): KubeconfigDocument {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: { token: "unused-token" } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  };
}

/** Writes the sandbox kubeconfig split in two: clusters and users, then contexts. */
async function splitSandboxKubeconfig(
  sandbox: Sandbox,
  dir: string,
): Promise<{ credentials: string; contexts: string }> {
  const document = await sandboxDocument(sandbox);
  const credentials = await writeDocument(join(dir, "part1.yaml"), {
    apiVersion: "v1",
    kind: "Config",
    clusters: document.clusters,
    users: document.users,
  });
  const contexts = await writeDocument(join(dir, "part2.yaml"), {
    apiVersion: "v1",
    kind: "Config",
    contexts: document.contexts,
    "current-context": document["current-context"],
  });
  return { credentials, contexts };
}

/** Writes an executable shell script and returns its path. */
async function writeScript(path: string, body: string): Promise<string> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** Returns the one-line message of a failed request through `kube`. */
async function requestFailure(kube: KubeClient): Promise<string> {
  try {
    await kube.get("/version");
  } catch (error) {
    return describeClusterError(error, kube.cluster);
  }
  assert.fail("the request succeeded");
}

/** Returns the one-line message of a failed connect with `env` and `options`. */
async function connectFailure(
  env: Record<string, string>,
  options: ConnectOptions = {},
): Promise<string> {
  try {
    await connectWithEnv(env, options);
  } catch (error) {
    assert.ok(error instanceof KubeconfigError, `not a KubeconfigError: ${error}`);
    return describeClusterError(error);
  }
  assert.fail("connectToCluster succeeded");
}

/** Replaces the sandbox user with one whose credential comes from the exec plugin `command`. */
async function writeExecKubeconfig(
  sandbox: Sandbox,
  path: string,
  command: string,
): Promise<string> {
  const document = await sandboxDocument(sandbox);
  document.users = [{
    name: "sandbox",
    user: {
      exec: { apiVersion: "client.authentication.k8s.io/v1", command, interactiveMode: "Never" },
    },
  }];
  return await writeDocument(path, document);
}

Deno.test("KUBECONFIG merges clusters from one file, contexts from another", async () => {
  await withSandbox(async (sandbox, dir) => {
    const { credentials, contexts } = await splitSandboxKubeconfig(sandbox, dir);

    for (const order of [[credentials, contexts], [contexts, credentials]]) {
      const kube = await connectWithEnv({ KUBECONFIG: order.join(":") });
      assert.equal(kube.cluster.contextName, "sandbox");
      assert.equal(kube.cluster.server, sandbox.url);
      assert.equal(kube.cluster.caPem, sandbox.caPem);
      const version = await kube.get<{ gitVersion: string }>("/version");
      assert.equal(typeof version.gitVersion, "string");
    }
  });
});

Deno.test("KUBECONFIG first current-context wins", async () => {
  await withSandbox(async (sandbox, dir) => {
    const closed = `https://127.0.0.1:${await freePort()}`;
    const other = await writeDocument(join(dir, "other.yaml"), singleContext("other", closed));

    const sandboxFirst = await connectWithEnv({ KUBECONFIG: `${sandbox.kubeconfigPath}:${other}` });
    assert.equal(sandboxFirst.cluster.contextName, "sandbox");
    assert.equal(sandboxFirst.cluster.server, sandbox.url);

    const otherFirst = await connectWithEnv({ KUBECONFIG: `${other}:${sandbox.kubeconfigPath}` });
    assert.equal(otherFirst.cluster.contextName, "other");
    assert.equal(otherFirst.cluster.server, closed);

    const chosen = await connectWithEnv(
      { KUBECONFIG: `${other}:${sandbox.kubeconfigPath}` },
      { context: "sandbox" },
    );
    assert.equal(chosen.cluster.server, sandbox.url);
  });
});

Deno.test("KUBECONFIG first definition of a name wins", async () => {
  await withSandbox(async (sandbox, dir) => {
    const closed = `https://127.0.0.1:${await freePort()}`;
    const duplicate = await writeDocument(
      join(dir, "duplicate.yaml"),
      singleContext("sandbox", closed),
    );

    const good = await connectWithEnv({ KUBECONFIG: `${sandbox.kubeconfigPath}:${duplicate}` });
    assert.equal(good.cluster.server, sandbox.url);
    await good.get("/version");

    const shadowed = await connectWithEnv({ KUBECONFIG: `${duplicate}:${sandbox.kubeconfigPath}` });
    assert.equal(shadowed.cluster.server, closed);
  });
});

Deno.test("KUBECONFIG skips missing and empty files", async () => {
  await withSandbox(async (sandbox, dir) => {
    const missing = join(dir, "missing.yaml");
    const empty = join(dir, "empty.yaml");
    await Deno.writeTextFile(empty, "\n");

    const kube = await connectWithEnv({
      KUBECONFIG: `${missing}:${empty}::${sandbox.kubeconfigPath}`,
    });
    assert.equal(kube.cluster.server, sandbox.url);
    await kube.get("/version");
  });
});

Deno.test("KUBECONFIG with only missing files names them", async () => {
  const message = await connectFailure({ KUBECONFIG: "/nonexistent/a.yaml:/nonexistent/b.yaml" });
  assert.equal(
    message,
    "KUBECONFIG lists no existing file (/nonexistent/a.yaml, /nonexistent/b.yaml); " +
      "set it to kubeconfig files that exist or pass --kubeconfig",
  );
});

Deno.test("KUBECONFIG resolves certificate-authority relative to its file", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    const clusterDir = join(dir, "clusters");
    await Deno.mkdir(clusterDir);
    await Deno.writeTextFile(join(clusterDir, "ca.crt"), sandbox.caPem);
    const clusters = await writeDocument(join(clusterDir, "clusters.yaml"), {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{
        name: "sandbox",
        cluster: { server: sandbox.url, "certificate-authority": "ca.crt" },
      }],
    });
    delete document.clusters;
    const rest = await writeDocument(join(dir, "rest.yaml"), document);

    const kube = await connectWithEnv({ KUBECONFIG: `${rest}:${clusters}` });
    assert.equal(kube.cluster.caPem, sandbox.caPem);
    await kube.get("/version");
  });
});

Deno.test("--kubeconfig reads one file and names a missing one", async () => {
  await withSandbox(async (sandbox) => {
    const message = await connectFailure(
      { KUBECONFIG: sandbox.kubeconfigPath },
      { kubeconfig: "/nonexistent/kubeconfig.yaml" },
    );
    assert.equal(
      message,
      "kubeconfig /nonexistent/kubeconfig.yaml: file not found; pass an existing file to --kubeconfig",
    );
  });
});

Deno.test("invalid YAML reports the line without file content", async () => {
  await withSandbox(async (_sandbox, dir) => {
    const path = join(dir, "broken.yaml");
    await Deno.writeTextFile(
      path,
      "apiVersion: v1\nusers:\n- name: me\n  user: {token: secret-token-value}\nnot: [valid\n",
    );
    const message = await connectFailure({}, { kubeconfig: path });
    assert.match(
      message,
      new RegExp(`^kubeconfig ${path}: invalid YAML at line \\d+ \\(.+\\); fix the file$`),
    );
    assert.ok(!message.includes("secret-token-value"), message);
    assert.ok(!message.includes("\n"), message);
  });
});

Deno.test("empty --kubeconfig file is named", async () => {
  await withSandbox(async (_sandbox, dir) => {
    const path = join(dir, "empty.yaml");
    await Deno.writeTextFile(path, "");
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      `kubeconfig ${path}: file is empty; pass a kubeconfig with clusters, users and contexts`,
    );
  });
});

Deno.test("invalid entry names the file and the entry", async () => {
  await withSandbox(async (_sandbox, dir) => {
    const path = await writeDocument(join(dir, "no-server.yaml"), {
      clusters: [{ name: "c1", cluster: {} }],
    });
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      `kubeconfig ${path}: clusters[0].cluster.server is missing; fix or remove that entry`,
    );
  });
});

Deno.test("context with undefined cluster or user is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    document.contexts.push(
      { name: "dev", context: { cluster: "c1", user: "sandbox" } },
      { name: "ops", context: { cluster: "sandbox", user: "u1" } },
    );
    const path = await writeDocument(join(dir, "contexts.yaml"), document);

    assert.equal(
      await connectFailure({}, { kubeconfig: path, context: "dev" }),
      'context "dev": cluster "c1" is not defined in the kubeconfig; add it or fix contexts[].context.cluster',
    );
    assert.equal(
      await connectFailure({}, { kubeconfig: path, context: "ops" }),
      'context "ops": user "u1" is not defined in the kubeconfig; add it or fix contexts[].context.user',
    );
  });
});

Deno.test("missing current-context lists the known contexts", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    delete document["current-context"];
    const unset = await writeDocument(join(dir, "unset.yaml"), document);
    assert.equal(
      await connectFailure({ KUBECONFIG: unset }),
      `kubeconfig ${unset}: no current-context is set; pass --context with one of: sandbox`,
    );

    document["current-context"] = "gone";
    const dangling = await writeDocument(join(dir, "dangling.yaml"), document);
    assert.equal(
      await connectFailure({}, { kubeconfig: dangling }),
      `kubeconfig ${dangling}: current-context "gone" is not defined; pass --context with one of: sandbox`,
    );

    assert.equal(
      await connectFailure({}, { kubeconfig: dangling, context: "nope" }),
      'context "nope" not found in kubeconfig; known contexts: sandbox',
    );
  });
});

Deno.test("missing certificate-authority file is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    document.clusters[0].cluster = {
      server: sandbox.url,
      "certificate-authority": "missing-ca.crt",
    };
    const path = await writeDocument(join(dir, "ca.yaml"), document);
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      `context "sandbox" (${sandbox.url}): certificate-authority file ${
        join(dir, "missing-ca.crt")
      } not found`,
    );
  });
});

Deno.test("certificate-authority-data that is not PEM is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    document.clusters[0].cluster["certificate-authority-data"] = btoa("not a certificate");
    const path = await writeDocument(join(dir, "ca-data.yaml"), document);
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      `context "sandbox" (${sandbox.url}): certificate-authority-data contains no PEM certificate; ` +
        "expected a PEM CA bundle",
    );
  });
});

Deno.test("plain HTTP server is rejected with the reason", async () => {
  await withSandbox(async (_sandbox, dir) => {
    const path = await writeDocument(
      join(dir, "http.yaml"),
      singleContext("plain", "http://127.0.0.1:8001"),
    );
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      'context "plain" (http://127.0.0.1:8001): plain HTTP API servers are not supported because ' +
        "trustwatch checks the server's certificate; use the https:// address",
    );
  });
});

Deno.test("missing user token-file is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    const tokenFile = join(dir, "missing-token");
    document.users[0].user = { "token-file": tokenFile };
    const path = await writeDocument(join(dir, "token-file.yaml"), document);
    assert.equal(
      await connectFailure({}, { kubeconfig: path }),
      `kubeconfig ${path}: token-file ${tokenFile} not found`,
    );
  });
});

Deno.test("missing in-cluster token file is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const accountDir = join(dir, "var/run/secrets/kubernetes.io/serviceaccount");
    await Deno.mkdir(accountDir, { recursive: true });
    await Deno.writeTextFile(join(accountDir, "ca.crt"), sandbox.caPem);
    const url = new URL(sandbox.url);
    const message = await connectFailure({
      KUBERNETES_SERVICE_HOST: url.hostname,
      KUBERNETES_SERVICE_PORT: url.port,
      TRUSTWATCH_SERVICE_ACCOUNT_ROOT: dir,
    });
    assert.equal(
      message,
      `context "inClusterContext" (${sandbox.url}): token file ${
        join(accountDir, "token")
      } not found`,
    );
  });
});

Deno.test("exec plugin supplies the token", async () => {
  await withSandbox(async (sandbox, dir) => {
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: sandbox.token },
    });
    const plugin = await writeScript(join(dir, "plugin"), `echo '${credential}'`);
    const path = await writeExecKubeconfig(sandbox, join(dir, "exec.yaml"), plugin);

    const kube = await connectToCluster({ kubeconfig: path });
    await kube.get("/version");
  });
});

Deno.test("missing exec plugin is named", async () => {
  await withSandbox(async (sandbox, dir) => {
    const path = await writeExecKubeconfig(sandbox, join(dir, "exec.yaml"), "/nonexistent/plugin");
    const kube = await connectToCluster({ kubeconfig: path });
    assert.equal(
      await requestFailure(kube),
      `context "sandbox" (${sandbox.url}): exec plugin /nonexistent/plugin not found; ` +
        "install it or fix users[].user.exec.command",
    );
  });
});

Deno.test("failing exec plugin shows its first stderr line", async () => {
  await withSandbox(async (sandbox, dir) => {
    const plugin = await writeScript(
      join(dir, "plugin"),
      'echo "session expired: run sso login" >&2\necho "second line" >&2\nexit 1',
    );
    const path = await writeExecKubeconfig(sandbox, join(dir, "exec.yaml"), plugin);
    const kube = await connectToCluster({ kubeconfig: path });
    assert.equal(
      await requestFailure(kube),
      `context "sandbox" (${sandbox.url}): exec plugin ${plugin} failed: session expired: run sso login`,
    );
  });
});

Deno.test("exec plugin output that is not JSON stays hidden", async () => {
  await withSandbox(async (sandbox, dir) => {
    const plugin = await writeScript(join(dir, "plugin"), "echo token=secret-token-value");
    const path = await writeExecKubeconfig(sandbox, join(dir, "exec.yaml"), plugin);
    const kube = await connectToCluster({ kubeconfig: path });
    assert.equal(
      await requestFailure(kube),
      `context "sandbox" (${sandbox.url}): exec plugin ${plugin} printed no valid ExecCredential ` +
        "JSON; run it by hand to see its output",
    );
  });
});

Deno.test("rejected token names context and server", async () => {
  await withSandbox(async (sandbox, dir) => {
    const document = await sandboxDocument(sandbox);
    document.users[0].user.token = "wrong-token-value";
    const path = await writeDocument(join(dir, "token.yaml"), document);
    const kube = await connectToCluster({ kubeconfig: path });
    const message = await requestFailure(kube);
    assert.equal(
      message,
      `context "sandbox" (${sandbox.url}): the API server rejected the credentials ` +
        "(401 Unauthorized); log in again or fix the user in the kubeconfig",
    );
  });
});

Deno.test("unreachable server names context and server", async () => {
  await withSandbox(async (sandbox, dir) => {
    const closed = `https://127.0.0.1:${await freePort()}`;
    const document = await sandboxDocument(sandbox);
    document.clusters[0].cluster.server = closed;
    const path = await writeDocument(join(dir, "closed.yaml"), document);
    const kube = await connectToCluster({ kubeconfig: path });
    assert.equal(
      await requestFailure(kube),
      `context "sandbox" (${closed}): cannot connect to the API server: connection refused; ` +
        "is the API server running and the address right?",
    );
  });
});

Deno.test("describeClusterError keeps unexpected errors to one line", () => {
  const cluster = {
    contextName: "dev",
    server: "https://127.0.0.1:6443",
    insecureSkipTLSVerify: false,
  };
  assert.equal(
    describeClusterError(new Error("first line\nsecond line"), cluster),
    'context "dev" (https://127.0.0.1:6443): first line',
  );
  assert.equal(
    describeClusterError(new Error("boom\ndetail")),
    "cannot load the kubeconfig: boom",
  );
});
