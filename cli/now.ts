/**
 * `trustwatch now`: one scan of the current cluster, shown in the TUI on a terminal or printed
 * as a table, wide table, JSON or CSV, with an exit code for CI gates.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { getLogger } from "@logtape/logtape";
import {
  type Config,
  defaultConfig,
  loadConfigFile,
  validateNamespaceName,
} from "../core/config.ts";
import { connectToCluster, describeClusterError, type KubeClient } from "../core/kube/client.ts";
import { EXIT_CODES, exitCodeFor } from "../core/model.ts";
import { runScan, type ScanProgress } from "../core/scan.ts";
import type { Snapshot } from "../core/model.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";
import { renderCsv } from "./output/csv.ts";
import { repeatableOption } from "./repeatable_option.ts";
import { type ScanFlags, scanOptions, type ScanSettings, scanSettingsFrom } from "./scan_flags.ts";
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
    .addOption(scanOptions.kubeconfig())
    .addOption(scanOptions.context())
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
    .addOption(scanOptions.warnBefore())
    .addOption(scanOptions.critBefore())
    .addOption(scanOptions.scanTimeout())
    .addOption(scanOptions.probeTimeout())
    .addOption(scanOptions.probeConcurrency())
    .addOption(scanOptions.resolve())
    .addOption(scanOptions.resolveOnly())
    .addOption(
      new Option(
        "-o, --output <format>",
        "output format (default: tui when stdout is a terminal, else table)",
      ).choices(OUTPUT_FORMATS),
    )
    .option("-q, --quiet", "print only problems and errors, no summary or log lines below error")
    .addOption(scanOptions.logLevel("warning"))
    .addOption(scanOptions.logFormat())
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
export interface NowOptions extends TunnelFlags, ScanFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  config?: string;
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

  let kube: KubeClient | undefined;
  try {
    kube = await connectToCluster({ kubeconfig: options.kubeconfig, context: options.context });
    await kube.get("/version");
  } catch (error) {
    console.error(`trustwatch: ${describeClusterError(error, kube?.cluster)}`);
    return EXIT_CODES.error;
  }

  const interrupt = new AbortController();
  let stopSignal: StopSignal | undefined;
  const onSigint = () => {
    stopSignal ??= "SIGINT";
    interrupt.abort(new Error("scan interrupted"));
  };
  const onSigterm = () => {
    stopSignal ??= "SIGTERM";
    interrupt.abort(new Error("scan terminated"));
  };
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);
  let route: ProbeRoute | undefined;
  try {
    try {
      route = await openProbeRoute(kube, options, interrupt.signal);
    } catch (error) {
      if (stopSignal) return reportInterrupted(stopSignal);
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
        namespaces: settings.namespaces,
        thresholds: settings.thresholds,
        scanTimeoutMs: settings.scanTimeoutMs,
        probe: { ...settings.probe, dialer: route?.dialer },
        signal: signal ? AbortSignal.any([signal, interrupt.signal]) : interrupt.signal,
        onProgress,
      });
    const snapshot = await scanWithProgress(scan, options);
    // An interrupted scan is incomplete: print no report, whose gaps would read as problems.
    if (stopSignal) return reportInterrupted(stopSignal);
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
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
  }
}

type StopSignal = "SIGINT" | "SIGTERM";

/** Exit codes after a stop signal, 128 + the signal number as shells report them. */
const SIGNAL_EXIT_CODES: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Prints the one line for a scan stopped by a signal and returns the exit code. */
function reportInterrupted(signal: StopSignal): number {
  console.error(`trustwatch: scan ${signal === "SIGINT" ? "interrupted" : "terminated"}`);
  return SIGNAL_EXIT_CODES[signal];
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

interface NowSettings extends ScanSettings {
  config: Config;
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
  return { config, ...scanSettingsFrom(options, config) };
}

async function writeStdout(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}
