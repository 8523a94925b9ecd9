/**
 * The demo cluster, running: the sandbox with the demo fixtures, a config file naming the
 * external endpoint, and the flags that point trustwatch at both. Used by `deno task demo` and
 * by tests that scan the demo.
 *
 * @module
 */
import { demoFixtures } from "./fixtures.ts";
import { type Sandbox, startSandbox } from "./server.ts";

/** A running demo cluster. */
export interface DemoCluster {
  sandbox: Sandbox;
  /** Config file with the external endpoint (and any extra YAML given). */
  configPath: string;
  /**
   * Flags for `now` or `serve`: kubeconfig, config, `--resolve` for every TLS backend, and
   * `--resolve-only` so nothing but loopback is dialed.
   */
  flags: string[];
  /** Stops the sandbox and removes the config file. */
  close(): Promise<void>;
}

/** Starts the demo cluster; `extraConfig` is YAML appended to the generated config file. */
export async function startDemoCluster(
  options: { extraConfig?: string } = {},
): Promise<DemoCluster> {
  const { objects, external } = await demoFixtures();
  const sandbox = await startSandbox({ objects });
  const configPath = await Deno.makeTempFile({ prefix: "trustwatch-demo-", suffix: ".yaml" });
  await Deno.writeTextFile(
    configPath,
    `external:\n  - url: ${external.url}\n${options.extraConfig ?? ""}`,
  );
  const flags = [
    "--kubeconfig",
    sandbox.kubeconfigPath,
    "--config",
    configPath,
    "--resolve-only",
    ...sandbox.resolveEntries.flatMap((entry) => ["--resolve", entry]),
  ];
  return {
    sandbox,
    configPath,
    flags,
    async close() {
      await sandbox.close();
      await Deno.remove(configPath).catch(() => {});
    },
  };
}
