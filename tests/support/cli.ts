/**
 * Runs the trustwatch CLI as a subprocess through `deno task trustwatch`, so tests exercise the
 * same entry point and permissions as users.
 *
 * @module
 */

/** Output of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Runs `trustwatch ARGS` and returns its exit code and output. `env` adds variables; `unsetEnv`
 * removes inherited ones (e.g. KUBECONFIG), keeping the rest so Deno still finds its cache.
 */
export async function runTrustwatch(
  args: string[],
  options: { env?: Record<string, string>; unsetEnv?: string[] } = {},
): Promise<CliRun> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...options.env };
  for (const name of options.unsetEnv ?? []) delete env[name];
  if (!env.DENO_DIR) env.DENO_DIR = await denoDir();
  const command = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "trustwatch", ...args],
    cwd: REPO_ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Returns `--resolve` flags for a list of `HOST:PORT:ADDR` entries. */
export function resolveFlags(entries: string[]): string[] {
  return entries.flatMap((entry) => ["--resolve", entry]);
}

let cachedDenoDir: string | undefined;

/** Returns Deno's cache directory, so a changed HOME does not make Deno download packages again. */
async function denoDir(): Promise<string> {
  if (!cachedDenoDir) {
    const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] })
      .output();
    cachedDenoDir = JSON.parse(new TextDecoder().decode(stdout)).denoDir as string;
  }
  return cachedDenoDir;
}
