/**
 * `trustwatch serve`: the always-on service. Scans on a schedule and serves the web UI,
 * Prometheus metrics, health endpoints and the snapshot as JSON, until SIGTERM or SIGINT.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { getLogger } from "@logtape/logtape";
import {
  type Config,
  defaultConfig,
  loadConfigFile,
  MIN_REFRESH_EVERY_MS,
} from "../core/config.ts";
import { formatDuration } from "../core/duration.ts";
import { connectToCluster, describeClusterError, type KubeClient } from "../core/kube/client.ts";
import { EXIT_CODES } from "../core/model.ts";
import { SNAPSHOT_PATH } from "../server/app.ts";
import { parseListenAddress, type Service, startService } from "../server/service.ts";
import { SCRIPT_PATH, STYLESHEET_PATH } from "../server/ui/page.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";
import { repeatableOption } from "./repeatable_option.ts";
import {
  parseTimerFlagDuration,
  type ScanFlags,
  scanOptions,
  type ScanSettings,
  scanSettingsFrom,
} from "./scan_flags.ts";

/** Paths the service serves itself, which `metricsPath` must not shadow. */
const RESERVED_PATHS = [
  "/",
  "/index.html",
  "/healthz",
  "/readyz",
  SNAPSHOT_PATH,
  SCRIPT_PATH,
  STYLESHEET_PATH,
];

/** Builds the `serve` command. */
export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "Run as a service: scan on a schedule and serve a web UI, Prometheus metrics and JSON",
    )
    .option("--config <path>", "config file (YAML); flags override its values")
    .option("--listen-addr <[host]:port>", "address to listen on (default :8080)")
    .option("--refresh-every <duration>", "interval between scans, at least 30s (default 2m)")
    .addOption(scanOptions.warnBefore())
    .addOption(scanOptions.critBefore())
    .addOption(scanOptions.kubeconfig())
    .addOption(scanOptions.context())
    .addOption(repeatableOption(
      "-n, --namespace <name>",
      "scan only this namespace's objects; repeatable",
      "the config's namespaces, else all",
    ))
    .addOption(scanOptions.scanTimeout())
    .addOption(scanOptions.probeTimeout())
    .addOption(scanOptions.probeConcurrency())
    .addOption(scanOptions.resolve())
    .addOption(scanOptions.resolveOnly())
    .addOption(scanOptions.logLevel("info"))
    .addOption(scanOptions.logFormat())
    .addHelpText(
      "after",
      `
Endpoints: / (web UI), /metrics (or metricsPath), /healthz, /readyz,
/api/v1/snapshot?source=&severity=&namespace= (comma-separated values).
SIGTERM or SIGINT stops scanning and the server within 10 seconds.

Examples:
  trustwatch serve --config /etc/trustwatch/config.yaml
  trustwatch serve --listen-addr 127.0.0.1:8080 --refresh-every 5m -n payments`,
    )
    .action(async (options) => {
      const code = await runServe(options);
      // In-flight cluster requests of a cancelled scan must not keep the process alive.
      Deno.exit(code);
    }) as unknown as Command;
}

/** Parsed flags of `serve`. */
export interface ServeOptions extends ScanFlags {
  config?: string;
  listenAddr?: string;
  refreshEvery?: string;
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  logLevel: typeof LOG_LEVELS[number];
  logFormat: typeof LOG_FORMATS[number];
}

/** Settings of one `serve` run: the config file with the flags applied. */
export interface ServeSettings extends ScanSettings {
  config: Config;
  namespaces: string[];
  hostname: string;
  port: number;
  refreshEveryMs: number;
}

/**
 * Runs `serve` until SIGTERM or SIGINT and returns the exit code: 0 after a graceful stop, 3 for
 * invalid settings, an unusable kubeconfig or an address that cannot be bound.
 */
export async function runServe(options: ServeOptions): Promise<number> {
  await setUpLogging({ level: options.logLevel, format: options.logFormat });
  const logger = getLogger(["trustwatch", "serve"]);

  let settings: ServeSettings;
  try {
    settings = await serveSettingsFrom(options);
  } catch (error) {
    console.error(`trustwatch: ${(error as Error).message}`);
    return EXIT_CODES.error;
  }

  let kube: KubeClient;
  try {
    kube = await connectToCluster({ kubeconfig: options.kubeconfig, context: options.context });
  } catch (error) {
    console.error(`trustwatch: ${describeClusterError(error)}`);
    return EXIT_CODES.error;
  }

  let service: Service;
  try {
    service = startService({ kube, ...settings });
  } catch (error) {
    console.error(
      `trustwatch: cannot listen on ${options.listenAddr ?? settings.config.listenAddr}: ` +
        `${(error as Error).message}`,
    );
    return EXIT_CODES.error;
  }
  logger.info("scanning context {context} at {server} every {interval}", {
    context: kube.cluster.contextName,
    server: kube.cluster.server,
    interval: formatDuration(settings.refreshEveryMs),
  });

  const stopRequested = Promise.withResolvers<string>();
  const onSigterm = () => stopRequested.resolve("SIGTERM");
  const onSigint = () => stopRequested.resolve("SIGINT");
  Deno.addSignalListener("SIGTERM", onSigterm);
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const signal = await stopRequested.promise;
    logger.info("received {signal}", { signal });
    await service.shutdown();
    return EXIT_CODES.ok;
  } finally {
    Deno.removeSignalListener("SIGTERM", onSigterm);
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/** Reads the config file and applies the flags; throws an Error naming the flag or key. */
export async function serveSettingsFrom(options: ServeOptions): Promise<ServeSettings> {
  const config = options.config ? await loadConfigFile(options.config) : defaultConfig();
  if (options.listenAddr !== undefined) config.listenAddr = options.listenAddr;
  if (options.refreshEvery !== undefined) config.refreshEvery = options.refreshEvery;
  if (options.warnBefore !== undefined) config.warnBefore = options.warnBefore;
  if (options.critBefore !== undefined) config.critBefore = options.critBefore;
  if (RESERVED_PATHS.includes(config.metricsPath)) {
    throw new Error(
      `metricsPath ${config.metricsPath} is used by trustwatch itself; choose e.g. /metrics`,
    );
  }

  const refreshEveryMs = parseTimerFlagDuration("--refresh-every", config.refreshEvery);
  if (refreshEveryMs < MIN_REFRESH_EVERY_MS) {
    throw new Error(`--refresh-every ${config.refreshEvery} is too short; use at least 30s`);
  }
  const { hostname, port } = parseListenAddress(config.listenAddr);
  const scanSettings = scanSettingsFrom(options, config);
  return {
    config,
    hostname,
    port,
    refreshEveryMs,
    ...scanSettings,
  };
}
