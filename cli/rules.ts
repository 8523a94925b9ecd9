/**
 * `trustwatch rules`: prints a PrometheusRule with the alerts for the metrics of `serve`.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { stringify } from "yaml";
import {
  type Config,
  defaultConfig,
  loadConfigFile,
  MIN_REFRESH_EVERY_MS,
} from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import { EXIT_CODES } from "../core/model.ts";
import {
  buildPrometheusRule,
  DEFAULT_RULE_NAME,
  DEFAULT_RULE_NAMESPACE,
  parseLabelList,
} from "../core/rules.ts";

/** Builds the `rules` command. */
export function rulesCommand(): Command {
  return new Command("rules")
    .description("Print a PrometheusRule that alerts on trustwatch's metrics")
    .option("--name <name>", "metadata.name of the PrometheusRule", DEFAULT_RULE_NAME)
    .option(
      "--namespace <name>",
      "metadata.namespace of the PrometheusRule",
      DEFAULT_RULE_NAMESPACE,
    )
    .option(
      "--labels <list>",
      "metadata.labels, e.g. the label your Prometheus Operator's ruleSelector matches",
    )
    .option("--config <path>", "read warnBefore, critBefore and refreshEvery from this config file")
    .option("--warn-before <duration>", "warning window, as serve's --warn-before (default 720h)")
    .option("--crit-before <duration>", "critical window, as serve's --crit-before (default 336h)")
    .option(
      "--refresh-every <duration>",
      "serve's scan interval; a scan older than twice this is stale (default 2m)",
    )
    .addHelpText(
      "after",
      `
Alerts: TrustwatchCertExpiringSoon, TrustwatchCertExpiryCritical, TrustwatchCertExpired,
TrustwatchProbeFailed, TrustwatchDiscoveryErrors, TrustwatchScanStale.
The expiry alerts follow trustwatch's severity label on each series: critical series page,
warn series (e.g. an expired CA superseded in its bundle) raise only the warning, and info
series (healthy, or renewed on schedule by cert-manager) never alert.
The object's spec is also a plain Prometheus rule file:
  trustwatch rules | yq .spec > trustwatch-rules.yaml

Examples:
  trustwatch rules --labels release=kube-prometheus-stack | kubectl apply -f -
  trustwatch rules --config /etc/trustwatch/config.yaml --namespace observability`,
    )
    .action(async (options) => {
      Deno.exitCode = await runRules(options);
    }) as unknown as Command;
}

/** Parsed flags of `rules`. */
export interface RulesOptions {
  name: string;
  namespace: string;
  labels?: string;
  config?: string;
  warnBefore?: string;
  critBefore?: string;
  refreshEvery?: string;
}

/** Prints the PrometheusRule as YAML; returns 0, or 3 with one error line for invalid flags. */
export async function runRules(options: RulesOptions): Promise<number> {
  let yaml: string;
  try {
    const config: Config = options.config ? await loadConfigFile(options.config) : defaultConfig();
    const warnBefore = options.warnBefore ?? config.warnBefore;
    const critBefore = options.critBefore ?? config.critBefore;
    const refreshEvery = options.refreshEvery ?? config.refreshEvery;
    const warnBeforeMs = parseFlagDuration("--warn-before", warnBefore);
    const critBeforeMs = parseFlagDuration("--crit-before", critBefore);
    const refreshEveryMs = parseFlagDuration("--refresh-every", refreshEvery);
    if (critBeforeMs >= warnBeforeMs) {
      throw new Error(
        `--crit-before (${critBefore}) must be shorter than --warn-before (${warnBefore})`,
      );
    }
    if (refreshEveryMs < MIN_REFRESH_EVERY_MS) {
      throw new Error(`--refresh-every ${refreshEvery} is too short; use at least 30s`);
    }
    const rule = buildPrometheusRule({
      name: options.name,
      namespace: options.namespace,
      labels: options.labels ? parseLabelList(options.labels) : undefined,
      warnBeforeMs,
      critBeforeMs,
      refreshEveryMs,
    });
    yaml = stringify(rule, { lineWidth: 0 });
  } catch (error) {
    console.error(`trustwatch: ${(error as Error).message}`);
    return EXIT_CODES.error;
  }
  console.log(yaml.trimEnd());
  return EXIT_CODES.ok;
}

function parseFlagDuration(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`);
  }
}
