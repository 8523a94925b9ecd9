/**
 * `trustwatch serve`: the always-on service. Scans on a schedule and serves the web UI,
 * Prometheus metrics, health endpoints and the snapshot as JSON, until SIGTERM or SIGINT.
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
  MIN_REFRESH_EVERY_MS,
} from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import { connectToCluster, type KubeClient } from "../core/kube/client.ts";
import { EXIT_CODES } from "../core/model.ts";
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_MS } from "../core/probe/prober.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import { DEFAULT_SCAN_TIMEOUT_MS } from "../core/scan.ts";
import { SNAPSHOT_PATH } from "../server/app.ts";
import { parseListenAddress, type Service, startService } from "../server/service.ts";
import { SCRIPT_PATH, STYLESHEET_PATH } from "../server/ui/page.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";

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
    .option(
      "--warn-before <duration>",
      "warn when a certificate expires within this duration (default 720h)",
    )
    .option(
      "--crit-before <duration>",
      "critical when a certificate expires within this duration (default 336h)",
    )
    .option(
      "--kubeconfig <path>",
      "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)",
    )
    .option("--context <name>", "kubeconfig context to use (default: the current context)")
    .addOption(repeatableOption(
      "-n, --namespace <name>",
      "scan only this namespace's objects; repeatable",
      "the config's namespaces, else all",
    ))
    .option("--scan-timeout <duration>", "cancel a scan after this duration", "120s")
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
      new Option("--log-level <level>", "log level on stderr").choices(LOG_LEVELS).default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "log format on stderr").choices(LOG_FORMATS).default(
        "text",
      ),
    )
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
export interface ServeOptions {
  config?: string;
  listenAddr?: string;
  refreshEvery?: string;
  warnBefore?: string;
  critBefore?: string;
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  scanTimeout: string;
  probeTimeout: string;
  probeConcurrency: string;
  resolve: string[];
  resolveOnly?: boolean;
  logLevel: typeof LOG_LEVELS[number];
  logFormat: typeof LOG_FORMATS[number];
}

/** Settings of one `serve` run: the config file with the flags applied. */
export interface ServeSettings {
  config: Config;
  namespaces: string[];
  hostname: string;
  port: number;
  refreshEveryMs: number;
  thresholds: { warnBeforeMs: number; critBeforeMs: number };
  scanTimeoutMs: number;
  probe: { timeoutMs: number; concurrency: number; resolve: ResolveMap; resolveOnly: boolean };
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
    const where = options.context ? `context "${options.context}"` : "the current context";
    console.error(`trustwatch: cannot load the cluster of ${where}: ${(error as Error).message}`);
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
  logger.info("scanning context {context} at {server} every {seconds}s", {
    context: kube.cluster.contextName,
    server: kube.cluster.server,
    seconds: settings.refreshEveryMs / 1000,
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

  const warnBeforeMs = parseFlagDuration("--warn-before", config.warnBefore);
  const critBeforeMs = parseFlagDuration("--crit-before", config.critBefore);
  if (critBeforeMs >= warnBeforeMs) {
    throw new Error(
      `--crit-before (${config.critBefore}) must be shorter than --warn-before (${config.warnBefore})`,
    );
  }
  const refreshEveryMs = parseFlagDuration("--refresh-every", config.refreshEvery);
  if (refreshEveryMs < MIN_REFRESH_EVERY_MS) {
    throw new Error(`--refresh-every ${config.refreshEvery} is too short; use at least 30s`);
  }
  const { hostname, port } = parseListenAddress(config.listenAddr);
  const concurrency = Number(options.probeConcurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `invalid --probe-concurrency "${options.probeConcurrency}": expected a whole number of 1 or more`,
    );
  }

  return {
    config,
    namespaces: options.namespace.length > 0 ? options.namespace : config.namespaces,
    hostname,
    port,
    refreshEveryMs,
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
