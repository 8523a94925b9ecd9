/**
 * Flags shared by the commands that scan (`now`, `serve`): cluster access, thresholds, probe
 * limits, resolver overrides and logging, each defined once, and their parsing into settings.
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { type Config, validateNamespaceName } from "../core/config.ts";
import { parseDuration, timerDurationProblem } from "../core/duration.ts";
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_MS } from "../core/probe/prober.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import { DEFAULT_SCAN_TIMEOUT_MS } from "../core/scan.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./logging.ts";
import { repeatableOption } from "./repeatable_option.ts";

/** Option builders; each call returns a new Option to add to a command. */
export const scanOptions = {
  kubeconfig: () =>
    new Option(
      "--kubeconfig <path>",
      "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
    ),
  context: () =>
    new Option("--context <name>", "kubeconfig context to use (default: the current context)"),
  warnBefore: () =>
    new Option(
      "--warn-before <duration>",
      "warn when a certificate expires within this duration (default: warnBefore from --config, else 720h)",
    ),
  critBefore: () =>
    new Option(
      "--crit-before <duration>",
      "critical when a certificate expires within this duration (default: critBefore from --config, else 336h)",
    ),
  scanTimeout: () =>
    new Option("--scan-timeout <duration>", "cancel a whole scan after this duration").default(
      `${DEFAULT_SCAN_TIMEOUT_MS / 1000}s`,
    ),
  probeTimeout: () =>
    new Option("--probe-timeout <duration>", "time limit of one TLS handshake").default(
      `${DEFAULT_PROBE_TIMEOUT_MS / 1000}s`,
    ),
  probeConcurrency: () =>
    new Option("--probe-concurrency <count>", "TLS handshakes in flight at once").default(
      String(DEFAULT_PROBE_CONCURRENCY),
    ),
  resolve: () =>
    repeatableOption(
      "--resolve <host:port:addr>",
      "dial ADDR for HOST:PORT, as curl --resolve; repeatable",
      "none",
    ),
  resolveOnly: () =>
    new Option(
      "--resolve-only",
      "dial only endpoints named by --resolve and loopback addresses; others fail undialed",
    ),
  logLevel: (defaultLevel: typeof LOG_LEVELS[number]) =>
    new Option("--log-level <level>", "log level on stderr").choices(LOG_LEVELS).default(
      defaultLevel,
    ),
  logFormat: () =>
    new Option("--log-format <format>", "log format on stderr").choices(LOG_FORMATS).default(
      "text",
    ),
};

/** The parsed values of the shared flags that shape a scan. */
export interface ScanFlags {
  /** `-n` values; empty means the config's namespaces, else all. */
  namespace: string[];
  warnBefore?: string;
  critBefore?: string;
  scanTimeout: string;
  probeTimeout: string;
  probeConcurrency: string;
  resolve: string[];
  resolveOnly?: boolean;
}

/** Namespaces, thresholds, scan timeout and probe settings, ready for `runScan`. */
export interface ScanSettings {
  /** Namespaces to scan, validated; empty means all. */
  namespaces: string[];
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

/**
 * Reads the shared flags, with the config file's thresholds where no flag overrides them.
 * Throws an Error naming the flag and the expected form.
 */
export function scanSettingsFrom(flags: ScanFlags, config: Config): ScanSettings {
  const warnBefore = flags.warnBefore ?? config.warnBefore;
  const critBefore = flags.critBefore ?? config.critBefore;
  const warnBeforeMs = parseFlagDuration("--warn-before", warnBefore);
  const critBeforeMs = parseFlagDuration("--crit-before", critBefore);
  if (critBeforeMs >= warnBeforeMs) {
    throw new Error(
      `--crit-before (${critBefore}) must be shorter than --warn-before (${warnBefore})`,
    );
  }

  const concurrency = Number(flags.probeConcurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `invalid --probe-concurrency "${flags.probeConcurrency}": expected a whole number of 1 or more`,
    );
  }

  const fromFlags = flags.namespace.length > 0;
  const namespaces = (fromFlags ? flags.namespace : config.namespaces).map((name) =>
    validateNamespaceName(name, fromFlags ? "--namespace" : "namespaces in --config")
  );

  return {
    namespaces,
    thresholds: { warnBeforeMs, critBeforeMs },
    scanTimeoutMs: parseTimerFlagDuration("--scan-timeout", flags.scanTimeout),
    probe: {
      timeoutMs: parseTimerFlagDuration("--probe-timeout", flags.probeTimeout),
      concurrency,
      resolve: new ResolveMap(flags.resolve.map(parseResolveEntry)),
      resolveOnly: flags.resolveOnly ?? false,
      // One short extra handshake per deprecated version, after a successful probe only.
      scanLegacyVersions: true,
    },
  };
}

/** Parses a duration flag; the error names the flag. */
export function parseFlagDuration(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`);
  }
}

/**
 * Parses a duration flag that arms a timer: more than 0 and at most one day
 * (`MAX_TIMER_DURATION_MS`). The error names the flag, the value and the range.
 */
export function parseTimerFlagDuration(flag: string, value: string): number {
  const ms = parseFlagDuration(flag, value);
  const problem = timerDurationProblem(ms);
  if (problem) throw new Error(`invalid ${flag} "${value}": ${problem}`);
  return ms;
}
