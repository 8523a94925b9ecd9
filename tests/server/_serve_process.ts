/**
 * Runs `trustwatch serve` as a subprocess on 127.0.0.1 with a free port, against a sandbox
 * cluster, for end-to-end tests of the service.
 *
 * The process is started with `deno run mod.ts` rather than `deno task`, so signals reach the
 * serve process itself.
 *
 * @module
 */
import { demoFixtures } from "../sandbox/fixtures.ts";
import { type KubeObject, type Sandbox, startSandbox } from "../sandbox/server.ts";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];
/** Time allowed for the subprocess to log its listen address. */
const LISTEN_TIMEOUT_MS = 60_000;

/** A running `serve` subprocess. */
export interface ServeProcess {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  /** Sends SIGTERM if still running, then SIGKILL after 15 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** A sandbox with the demo fixtures and a config file naming its external endpoint. */
export interface DemoCluster {
  sandbox: Sandbox;
  configPath: string;
  /** Flags for `serve`: kubeconfig, config, --resolve-only and the --resolve entries. */
  args: string[];
  close(): Promise<void>;
}

/** Starts the demo sandbox, plus `extraObjects`, with `configText` appended to the config. */
export async function startDemoCluster(
  options: { extraObjects?: KubeObject[]; latencyMs?: number; configText?: string } = {},
): Promise<DemoCluster> {
  const { objects, external } = await demoFixtures();
  const sandbox = await startSandbox({
    objects: [...objects, ...(options.extraObjects ?? [])],
    latencyMs: options.latencyMs,
  });
  const configPath = await Deno.makeTempFile({ prefix: "trustwatch-serve-", suffix: ".yaml" });
  await Deno.writeTextFile(
    configPath,
    `external:\n  - url: ${external.url}\n${options.configText ?? ""}`,
  );
  return {
    sandbox,
    configPath,
    args: [
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      ...sandbox.resolveEntries.flatMap((entry) => ["--resolve", entry]),
    ],
    close: async () => {
      await sandbox.close();
      await Deno.remove(configPath).catch(() => {});
    },
  };
}

/**
 * Starts `trustwatch serve ARGS --listen-addr 127.0.0.1:0` and waits until it logs its address.
 * Throws with the captured stderr when it exits or stays silent first.
 */
export async function startServe(args: string[]): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      "mod.ts",
      "serve",
      "--listen-addr",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--log-level",
      "info",
      ...args,
    ],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  let captured = "";
  const listening = Promise.withResolvers<number>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      captured += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const port = listenPortOf(line);
        if (port !== undefined) listening.resolve(port);
      }
    }
  })();
  const status = child.status.then(async (exit) => {
    await reading.catch(() => {});
    listening.reject(new Error(`serve exited with code ${exit.code}:\n${captured}`));
    return exit;
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`serve did not listen within ${LISTEN_TIMEOUT_MS} ms:\n${captured}`)),
      LISTEN_TIMEOUT_MS,
    );
  });
  let port: number;
  try {
    port = await Promise.race([listening.promise, timeout]);
  } catch (error) {
    await killAndWait(child, status);
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stderr: () => captured,
    status,
    stop: () => killAndWait(child, status),
  };
}

function listenPortOf(line: string): number | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const record = JSON.parse(line) as { properties?: { address?: string } };
    const address = record.properties?.address;
    const match = address ? /:(\d+)$/.exec(address) : null;
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function killAndWait(
  child: Deno.ChildProcess,
  status: Promise<Deno.CommandStatus>,
): Promise<void> {
  const exited = await Promise.race([status.then(() => true), Promise.resolve(false)]);
  if (exited) return;
  try {
    child.kill("SIGTERM");
  } catch {
    // Already exited.
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, 15_000);
  try {
    await status;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 200 ms until it returns a value other than undefined, or throws. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${lastError ?? ""}`);
}
