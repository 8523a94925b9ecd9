/**
 * `deno task bench`: scans a large sandbox cluster and compares wall time and peak RSS with the
 * floor measured in the same run. The scan and the floor each run in their own subprocess, so
 * each peak RSS belongs to one measurement; the sandbox runs in this process.
 *
 * Usage: `deno task bench [--runs N]` (default one run of each).
 *
 * @module
 */
import { DEFAULT_PROBE_CONCURRENCY } from "../core/probe/prober.ts";
import { startSandbox } from "../tests/sandbox/server.ts";
import { BENCH_SIZES, buildBenchCluster } from "./_bench_cluster.ts";
import type { WorkerParameters, WorkerResult } from "./_peak_rss.ts";

const WORKERS = {
  trustwatch: new URL("./_scan_worker.ts", import.meta.url).pathname,
  floor: new URL("./_floor_worker.ts", import.meta.url).pathname,
} as const;

const runsFlag = Deno.args.indexOf("--runs");
const runs = runsFlag >= 0 ? Number(Deno.args[runsFlag + 1]) : 1;
if (!Number.isInteger(runs) || runs < 1) {
  console.error(
    `invalid --runs "${Deno.args[runsFlag + 1]}": expected a whole number of 1 or more`,
  );
  Deno.exit(2);
}

const setupStarted = performance.now();
const cluster = await buildBenchCluster();
const sandbox = await startSandbox({ objects: cluster.objects });
const setupSeconds = (performance.now() - setupStarted) / 1000;
console.log(
  `cluster: ${BENCH_SIZES.tlsSecrets} TLS Secrets, ${BENCH_SIZES.helmReleaseSecrets} Helm release ` +
    `Secrets, ${BENCH_SIZES.endpoints} webhook and APIService endpoints, ${BENCH_SIZES.ingresses} ` +
    `Ingresses in ${BENCH_SIZES.namespaces} namespaces; set up in ${setupSeconds.toFixed(1)} s`,
);

const parametersPath = await Deno.makeTempFile({ prefix: "trustwatch-bench-", suffix: ".json" });
try {
  const parameters: WorkerParameters = {
    kubeconfigPath: sandbox.kubeconfigPath,
    url: sandbox.url,
    token: sandbox.token,
    caPem: sandbox.caPem,
    resolveEntries: sandbox.resolveEntries,
    concurrency: DEFAULT_PROBE_CONCURRENCY,
  };
  await Deno.writeTextFile(parametersPath, JSON.stringify(parameters));

  const rows: string[][] = [];
  for (let run = 1; run <= runs; run++) {
    for (const name of ["floor", "trustwatch"] as const) {
      const result = await runWorker(WORKERS[name], parametersPath);
      rows.push([
        runs > 1 ? `${name} #${run}` : name,
        `${(result.wallMs / 1000).toFixed(2)} s`,
        `${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
        Object.entries(result.counts).map(([key, value]) => `${key}=${value}`).join(" "),
      ]);
    }
  }
  printTable(["measurement", "wall time", "peak RSS", "work done"], rows);
  console.log(
    `concurrency ${DEFAULT_PROBE_CONCURRENCY}; Deno ${Deno.version.deno}; ` +
      `${navigator.hardwareConcurrency} CPUs; ${new Date().toISOString().slice(0, 10)}`,
  );
} finally {
  await Deno.remove(parametersPath);
  await sandbox.close();
}

/** Runs one worker subprocess and returns the result it printed last. */
async function runWorker(path: string, parametersFile: string): Promise<WorkerResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", path, parametersFile],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) throw new Error(`${path} exited with ${output.code}: ${stderr}`);
  if (stderr) console.error(`${path}: ${stderr.slice(0, 2000)}`);
  return JSON.parse(stdout.split("\n").at(-1)!) as WorkerResult;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
