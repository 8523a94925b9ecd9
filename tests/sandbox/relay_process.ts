/**
 * The process the sandbox runs for a relay Pod: the real `trustwatch socks5`, started with
 * `deno run` of mod.ts and the permissions of deno.json's `trustwatch` task. It listens on a free
 * loopback port and resolves the sandbox's Service names to its loopback TLS backends.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
/** Time the relay has to start listening, in milliseconds; `deno run` loads modules first. */
const RELAY_START_TIMEOUT_MS = 60_000;

const logger = getLogger(["trustwatch", "sandbox", "relay"]);

/**
 * Returns `deno` arguments that run the CLI as `deno task trustwatch` does: `run`, the
 * permission flags of deno.json's `trustwatch` task, and the path of mod.ts.
 */
export async function trustwatchRunArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  const task: string = config.tasks?.trustwatch ?? "";
  const words = task.split(/\s+/).filter((word) => word !== "");
  const permissions = words.filter((word) => word.startsWith("--allow-"));
  if (words[0] !== "deno" || words[1] !== "run" || !words.includes("mod.ts")) {
    throw new Error(`deno.json task "trustwatch" is not "deno run ... mod.ts": ${task}`);
  }
  return ["run", ...permissions, `${REPO_ROOT}mod.ts`];
}

/** A running `trustwatch socks5` subprocess. */
export interface RelayProcess {
  pid: number;
  /** Loopback port the relay listens on. */
  port: number;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `trustwatch socks5 --listen 127.0.0.1:0 --resolve-only` with the given `--resolve`
 * entries and extra environment variables, and resolves once it listens. Rejects, with the
 * process stopped, when it exits first or does not listen within a minute.
 */
export async function startRelayProcess(
  resolveEntries: string[],
  env: Record<string, string> = {},
): Promise<RelayProcess> {
  const args = [
    ...await trustwatchRunArgs(),
    "socks5",
    "--listen",
    "127.0.0.1:0",
    "--resolve-only",
    "--log-format",
    "json",
    "--log-level",
    "debug",
    ...resolveEntries.flatMap((entry) => ["--resolve", entry]),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const exited = child.status.then((status) => status.code);

  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // The process already exited.
    }
    await exited;
  };

  let port: number;
  try {
    port = await readListeningPort(child.stderr, exited);
  } catch (error) {
    await stop();
    throw error;
  }
  logger.debug("relay process {pid} listening on 127.0.0.1:{port}", { pid: child.pid, port });
  return { pid: child.pid, port, exited, stop };
}

/**
 * Reads the relay's JSON log lines until the "listening" record, then keeps draining stderr into
 * the sandbox's debug log so the pipe never fills.
 */
async function readListeningPort(
  stderr: ReadableStream<Uint8Array>,
  exited: Promise<number>,
): Promise<number> {
  const lines = stderr.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter());
  const reader = lines.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error("trustwatch socks5 did not listen within 60s")),
      RELAY_START_TIMEOUT_MS,
    );
  });
  const early = exited.then((code) => {
    throw new Error(`trustwatch socks5 exited with code ${code} before listening`);
  });

  const found = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error("trustwatch socks5 closed stderr before listening");
      const port = listeningPort(value);
      if (port !== undefined) return port;
      if (value.trim() !== "") logger.debug("relay: {line}", { line: value });
    }
  })();

  try {
    return await Promise.race([found, timeout, early]);
  } finally {
    clearTimeout(timer);
    early.catch(() => {});
    drain(reader);
  }
}

function listeningPort(line: string): number | undefined {
  try {
    const record = JSON.parse(line) as { properties?: { address?: unknown } };
    const address = record.properties?.address;
    if (typeof address !== "string" || !/listening on/.test(JSON.stringify(record))) return;
    const port = Number(/:(\d+)$/.exec(address)?.[1]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

async function drain(reader: ReadableStreamDefaultReader<string>): Promise<void> {
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value.trim() !== "") logger.debug("relay: {line}", { line: value });
    }
  } catch {
    // The process ended.
  }
}

function lineSplitter(): TransformStream<string, string> {
  let pending = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (pending + chunk).split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (pending) controller.enqueue(pending);
    },
  });
}
