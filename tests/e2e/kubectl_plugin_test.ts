import assert from "node:assert/strict";
import type { Snapshot } from "../../core/model.ts";
import { resolveFlags } from "../support/cli.ts";
import { demoFixtures } from "../sandbox/fixtures.ts";
import { startSandbox } from "../sandbox/server.ts";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;

function kubectlAvailable(): boolean {
  try {
    const { success } = new Deno.Command("kubectl", {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    if (success) return true;
  } catch {
    // Reported below.
  }
  console.log("skipped: kubectl is not installed");
  return false;
}

/** Writes `kubectl-trustwatch` into a new directory: a wrapper that runs the CLI from the repo. */
async function pluginDirectory(): Promise<string> {
  const directory = await Deno.makeTempDir({ prefix: "trustwatch-plugin-" });
  const wrapper = `${directory}/kubectl-trustwatch`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\ncd '${REPO_ROOT}' && exec '${Deno.execPath()}' task --quiet trustwatch "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  return directory;
}

async function kubectl(args: string[], pathPrefix: string) {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    PATH: `${pathPrefix}:${Deno.env.get("PATH")}`,
  };
  delete env.NO_COLOR;
  const { code, stdout, stderr } = await new Deno.Command("kubectl", {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test({
  name: "kubectl trustwatch now -o json scans the sandbox",
  ignore: !kubectlAvailable(),
  async fn() {
    const { objects } = await demoFixtures();
    const sandbox = await startSandbox({ objects });
    const plugins = await pluginDirectory();
    try {
      const listed = await kubectl(["plugin", "list"], plugins);
      assert.match(listed.stdout, new RegExp(`${plugins}/kubectl-trustwatch`));

      const run = await kubectl([
        "trustwatch",
        "now",
        "--kubeconfig",
        sandbox.kubeconfigPath,
        "--resolve-only",
        ...resolveFlags(sandbox.resolveEntries),
        "-o",
        "json",
      ], plugins);
      assert.equal(run.code, 2, run.stderr);
      const output = JSON.parse(run.stdout) as { snapshot: Snapshot; exitCode: number };
      assert.equal(output.exitCode, 2);
      const problems = output.snapshot.findings.filter((finding) => finding.severity !== "info");
      assert.ok(problems.some((finding) => finding.name === "grafana-tls"), run.stdout);
      const apiServer = output.snapshot.findings.find((finding) =>
        finding.source === "k8s.apiserver"
      );
      assert.equal(apiServer?.probeOk, true);
    } finally {
      await sandbox.close();
      await Deno.remove(plugins, { recursive: true });
    }
  },
});

Deno.test({
  name: "kubectl trustwatch help names both forms",
  ignore: !kubectlAvailable(),
  async fn() {
    const plugins = await pluginDirectory();
    try {
      const help = await kubectl(["trustwatch", "now", "--help"], plugins);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^\s+trustwatch now$/m);
      assert.match(help.stdout, /^\s+kubectl trustwatch now -o json/m);

      const root = await kubectl(["trustwatch", "--help"], plugins);
      assert.match(root.stdout, /installed as kubectl-trustwatch on PATH, as kubectl\s+trustwatch/);
      assert.match(root.stdout, /completion/);
    } finally {
      await Deno.remove(plugins, { recursive: true });
    }
  },
});
