/**
 * `trustwatch now`: one scan of the current cluster, shown in the TUI on a terminal or printed
 * as a table, wide table, JSON or CSV, with an exit code for CI gates.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { repeatableOption } from "./repeatable_option.ts";
import { getLogger } from "@logtape/logtape";
import {
  type Config,
  defaultConfig,
  loadConfigFile,
  validateNamespaceName,
} from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import { connectToCluster, KubeApiError, type KubeClient } from "../core/kube/client.ts";
import { EXIT_CODES, exitCodeFor } from "../core/model.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_MS } from "../core/probe/prober.ts";
import { DEFAULT_SCAN_TIMEOUT_MS, runScan, type ScanProgress } from "../core/scan.ts";
import type { Snapshot } from "../core/model.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";
import { renderCsv } from "./output/csv.ts";
import { renderJson } from "./output/json.ts";
import { renderTable } from "./output/table.ts";
import { ScanProgressLine, shouldShowProgress } from "./progress.ts";
import {
  addTunnelOptions,
  openProbeRoute,
  type ProbeRoute,
  type TunnelFlags,
} from "./tunnel_options.ts";
import { runTui } from "./tui/run.tsx";

/** Output formats of `now`. */
export const OUTPUT_FORMATS = ["table", "wide", "json", "csv", "tui"] as const;

/** An output format of `now`. */
export type OutputFormat = typeof OUTPUT_FORMATS[number];

/** Builds the `now` command. */
export function nowCommand(): Command {
  const command = new Command("now")
    .description("Scan the cluster once and report the certificates that are a problem")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use (default: the current context)")
    .addOption(repeatableOption(
      "-n, --namespace <name>",
      "scan only this namespace's objects; repeatable",
      "all namespaces",
    ))
    .option("--config <path>", "config file (YAML) with external targets and thresholds")
    .option(
      "--linkerd-namespace <name>",
      "namespace of the Linkerd control plane (default: linkerdNamespace from --config, else linkerd)",
    )
    .option(
      "--istio-namespace <name>",
      "namespace of the Istio control plane (default: istioNamespace from --config, else istio-system)",
    )
    .option(
      "--spiffe-socket <path>",
      "SPIFFE Workload API socket to read trust bundles from, e.g. unix:///run/spire/sockets/agent.sock " +
        "(default: spiffeSocket from --config, else $SPIFFE_ENDPOINT_SOCKET, else none)",
    )
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
    .addOption(repeatableOption(
      "--resolve <host:port:addr>",
      "dial ADDR for HOST:PORT, as curl --resolve; repeatable",
      "none",
    ))
    .option(
      "--resolve-only",
      "dial only endpoints named by --resolve and loopback addresses; others fail undialed",
    )
    .addOption(
      new Option(
        "-o, --output <format>",
        "output format (default: tui when stdout is a terminal, else table)",
      ).choices(OUTPUT_FORMATS),
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

On a terminal, now opens the TUI (keys: j/k move, / search, tab severity, i inventory,
enter detail, r rescan, q quit); piped, it prints the table. Progress goes to stderr
when stderr is a terminal and --quiet is not set.

Examples:
  trustwatch now
  kubectl trustwatch now
  kubectl trustwatch now -o json | jq '.snapshot.findings[] | select(.severity != "info")'
  trustwatch now -o wide --context prod -n payments -n ingress-nginx --warn-before 1080h
  kubectl trustwatch now -o csv > certificates.csv
  trustwatch now --resolve webhook.cert-manager.svc:443:127.0.0.1`,
    )
    .action(async (options) => {
      Deno.exitCode = await runNow(options);
    });
  return addTunnelOptions(command as unknown as Command);
}

/** Parsed flags of `now`. */
export interface NowOptions extends TunnelFlags {
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
  linkerdNamespace?: string;
  istioNamespace?: string;
  spiffeSocket?: string;
  /** Output format; undefined chooses tui on a terminal and table otherwise. */
  output?: OutputFormat;
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

  const format = options.output ?? (Deno.stdout.isTerminal() ? "tui" : "table");
  if (format === "tui" && !(Deno.stdout.isTerminal() && Deno.stdin.isTerminal())) {
    console.error(
      "trustwatch: -o tui needs a terminal on stdin and stdout; use -o table, wide, json or csv",
    );
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
  Deno.addSignalListener("SIGTERM", onSignal);
  let route: ProbeRoute | undefined;
  try {
    try {
      route = await openProbeRoute(kube, options, interrupt.signal);
    } catch (error) {
      console.error(`trustwatch: ${(error as Error).message}`);
      return EXIT_CODES.error;
    }
    logger.debug("scanning context {context} at {server}", {
      context: kube.cluster.contextName,
      server: kube.cluster.server,
    });
    const scan = (onProgress?: (event: ScanProgress) => void, signal?: AbortSignal) =>
      runScan({
        kube,
        config: settings.config,
        namespaces: options.namespace.length > 0 ? options.namespace : settings.config.namespaces,
        thresholds: settings.thresholds,
        scanTimeoutMs: settings.scanTimeoutMs,
        probe: { ...settings.probe, dialer: route?.dialer },
        signal: signal ? AbortSignal.any([signal, interrupt.signal]) : interrupt.signal,
        onProgress,
      });
    const snapshot = await scanWithProgress(scan, options);
    if (format === "tui") {
      return await runTui({
        snapshot,
        contextName: kube.cluster.contextName,
        cluster: settings.config.clusterName ?? kube.cluster.server,
        rescan: (onProgress, signal) => scan(onProgress, signal),
        logging: { level: options.quiet ? "error" : options.logLevel, format: options.logFormat },
      });
    }
    const exitCode = exitCodeFor(snapshot);
    await writeStdout(renderOutput(format, snapshot, exitCode, options));
    if (format === "csv") printScanErrors(snapshot);
    return exitCode;
  } finally {
    await route?.close();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/** Runs the first scan, with a progress line on stderr when it is a terminal and not --quiet. */
async function scanWithProgress(
  scan: (onProgress?: (event: ScanProgress) => void) => Promise<Snapshot>,
  options: NowOptions,
): Promise<Snapshot> {
  if (!shouldShowProgress(options)) return await scan();
  const progress = new ScanProgressLine();
  progress.start();
  try {
    return await scan((event) => progress.update(event));
  } finally {
    progress.stop();
  }
}

function renderOutput(
  format: Exclude<OutputFormat, "tui">,
  snapshot: Snapshot,
  exitCode: number,
  options: NowOptions,
): string {
  switch (format) {
    case "json":
      return renderJson(snapshot, exitCode);
    case "csv":
      return renderCsv(snapshot);
    case "table":
    case "wide":
      return renderTable(snapshot, new Date(), { quiet: options.quiet, wide: format === "wide" });
  }
}

/** CSV has no place for scan errors, so they go to stderr, one line each. */
function printScanErrors(snapshot: Snapshot): void {
  for (const error of snapshot.errors) {
    console.error(`trustwatch: ${error.source}: ${error.message.replace(/\s+/g, " ")}`);
  }
}

interface NowSettings {
  config: Config;
  thresholds: { warnBeforeMs: number; critBeforeMs: number };
  scanTimeoutMs: number;
  probe: {
    timeoutMs: number;
    concurrency: number;
    resolve: ResolveMap;
    resolveOnly: boolean;
    scanLegacyVersions: boolean;
  };
}

async function settingsFrom(options: NowOptions): Promise<NowSettings> {
  const config = options.config ? await loadConfigFile(options.config) : defaultConfig();
  if (options.linkerdNamespace !== undefined) {
    config.linkerdNamespace = validateNamespaceName(
      options.linkerdNamespace,
      "--linkerd-namespace",
    );
  }
  if (options.istioNamespace !== undefined) {
    config.istioNamespace = validateNamespaceName(options.istioNamespace, "--istio-namespace");
  }
  if (options.spiffeSocket !== undefined) config.spiffeSocket = options.spiffeSocket;
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
      // One short extra handshake per deprecated version, after a successful probe only.
      scanLegacyVersions: true,
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
