/**
 * `trustwatch now`: one scan of the current cluster, printed as a table or JSON, with an exit
 * code for CI gates.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { getLogger } from "@logtape/logtape";
import { type Config, defaultConfig, loadConfigFile } from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import { connectToCluster, KubeApiError, type KubeClient } from "../core/kube/client.ts";
import { EXIT_CODES, exitCodeFor } from "../core/model.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_MS } from "../core/probe/prober.ts";
import { DEFAULT_SCAN_TIMEOUT_MS, runScan } from "../core/scan.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";
import { renderJson } from "./output/json.ts";
import { renderTable } from "./output/table.ts";

/** Output formats of `now`. */
export const OUTPUT_FORMATS = ["table", "json"] as const;

const collect = (value: string, previous: string[]) => [...previous, value];

/** Builds the `now` command. */
export function nowCommand(): Command {
  return new Command("now")
    .description("Scan the cluster once and report the certificates that are a problem")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use (default: the current context)")
    .option(
      "-n, --namespace <name>",
      "scan only this namespace's objects; repeatable (default: all namespaces)",
      collect,
      [] as string[],
    )
    .option("--config <path>", "config file (YAML) with external targets and thresholds")
    .option(
      "--warn-before <duration>",
      "warn when a certificate expires within this duration (default 720h)",
    )
    .option(
      "--crit-before <duration>",
      "critical when a certificate expires within this duration (default 336h)",
    )
    .option("--scan-timeout <duration>", "cancel the whole scan after this duration", "120s")
    .option(
      "--probe-timeout <duration>",
      "time limit of one TLS handshake",
      `${DEFAULT_PROBE_TIMEOUT_MS / 1000}s`,
    )
    .option(
      "--probe-concurrency <count>",
      "TLS handshakes in flight at once",
      String(DEFAULT_PROBE_CONCURRENCY),
    )
    .option(
      "--resolve <host:port:addr>",
      "dial ADDR for HOST:PORT, as curl --resolve; repeatable",
      collect,
      [] as string[],
    )
    .option(
      "--resolve-only",
      "dial only endpoints named by --resolve and loopback addresses; others fail undialed",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table"),
    )
    .option("-q, --quiet", "print only problems and errors, no summary or log lines below error")
    .addOption(
      new Option("--log-level <level>", "log level on stderr").choices(LOG_LEVELS).default(
        "warning",
      ),
    )
    .addOption(
      new Option("--log-format <format>", "log format on stderr").choices(LOG_FORMATS).default(
        "text",
      ),
    )
    .addHelpText(
      "after",
      `
Exit codes: 0 no problems, 1 warnings, 2 critical, 3 discovery or probe errors
(2 beats 3 beats 1, so an unreachable endpoint never hides an expired one).

Examples:
  trustwatch now
  kubectl trustwatch now -o json | jq '.snapshot.findings[] | select(.severity != "info")'
  trustwatch now --context prod -n payments -n ingress-nginx --warn-before 1080h
  trustwatch now --resolve webhook.cert-manager.svc:443:127.0.0.1`,
    )
    .action(async (options) => {
      Deno.exitCode = await runNow(options);
    }) as unknown as Command;
}

/** Parsed flags of `now`. */
export interface NowOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  config?: string;
  warnBefore?: string;
  critBefore?: string;
  scanTimeout: string;
  probeTimeout: string;
  probeConcurrency: string;
  resolve: string[];
  resolveOnly?: boolean;
  output: typeof OUTPUT_FORMATS[number];
  quiet?: boolean;
  logLevel: typeof LOG_LEVELS[number];
  logFormat: typeof LOG_FORMATS[number];
}

/** Runs `now` and returns the exit code; usage errors print one line and return 3. */
export async function runNow(options: NowOptions): Promise<number> {
  await setUpLogging({
    level: options.quiet ? "error" : options.logLevel,
    format: options.logFormat,
  });
  const logger = getLogger(["trustwatch", "cli"]);

  let settings: NowSettings;
  try {
    settings = await settingsFrom(options);
  } catch (error) {
    console.error(`trustwatch: ${(error as Error).message}`);
    return EXIT_CODES.error;
  }

  let kube: KubeClient;
  try {
    kube = await connectToCluster({ kubeconfig: options.kubeconfig, context: options.context });
    await kube.get("/version");
  } catch (error) {
    console.error(`trustwatch: ${clusterErrorLine(error, options)}`);
    return EXIT_CODES.error;
  }

  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new Error("scan interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    logger.debug("scanning context {context} at {server}", {
      context: kube.cluster.contextName,
      server: kube.cluster.server,
    });
    const snapshot = await runScan({
      kube,
      config: settings.config,
      namespaces: options.namespace.length > 0 ? options.namespace : settings.config.namespaces,
      thresholds: settings.thresholds,
      scanTimeoutMs: settings.scanTimeoutMs,
      probe: settings.probe,
      signal: interrupt.signal,
    });
    const exitCode = exitCodeFor(snapshot);
    const output = options.output === "json"
      ? renderJson(snapshot, exitCode)
      : renderTable(snapshot, new Date(), { quiet: options.quiet });
    await writeStdout(output);
    return exitCode;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

interface NowSettings {
  config: Config;
  thresholds: { warnBeforeMs: number; critBeforeMs: number };
  scanTimeoutMs: number;
  probe: { timeoutMs: number; concurrency: number; resolve: ResolveMap; resolveOnly: boolean };
}

async function settingsFrom(options: NowOptions): Promise<NowSettings> {
  const config = options.config ? await loadConfigFile(options.config) : defaultConfig();
  const warnBefore = options.warnBefore ?? config.warnBefore;
  const critBefore = options.critBefore ?? config.critBefore;
  const warnBeforeMs = parseFlagDuration("--warn-before", warnBefore);
  const critBeforeMs = parseFlagDuration("--crit-before", critBefore);
  if (critBeforeMs >= warnBeforeMs) {
    throw new Error(
      `--crit-before (${critBefore}) must be shorter than --warn-before (${warnBefore})`,
    );
  }
  const concurrency = Number(options.probeConcurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `invalid --probe-concurrency "${options.probeConcurrency}": expected a whole number of 1 or more`,
    );
  }
  return {
    config,
    thresholds: { warnBeforeMs, critBeforeMs },
    scanTimeoutMs: parseFlagDuration("--scan-timeout", options.scanTimeout) ||
      DEFAULT_SCAN_TIMEOUT_MS,
    probe: {
      timeoutMs: parseFlagDuration("--probe-timeout", options.probeTimeout),
      concurrency,
      resolve: new ResolveMap(options.resolve.map(parseResolveEntry)),
      resolveOnly: options.resolveOnly ?? false,
    },
  };
}

function parseFlagDuration(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`);
  }
}

function clusterErrorLine(error: unknown, options: NowOptions): string {
  const message = (error as Error).message ?? String(error);
  const where = options.context ? `context "${options.context}"` : "the current context";
  if (error instanceof KubeApiError && (error.status === 401 || error.status === 403)) {
    return `cannot scan ${where}: the API server rejected the credentials (${message}); ` +
      "check the user in the kubeconfig or log in again";
  }
  return `cannot reach the cluster of ${where}: ${message}`;
}

async function writeStdout(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}
