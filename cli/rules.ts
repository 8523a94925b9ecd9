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
import { EXIT_CODES } from "../core/model.ts";
import { parseFlagDuration } from "./scan_flags.ts";
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
    validateObjectName(options.name, "--name", DNS_SUBDOMAIN);
    validateObjectName(options.namespace, "--namespace", DNS_LABEL);
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

/** A DNS-1123 subdomain, which Kubernetes requires of most object names. */
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A DNS-1123 label, which Kubernetes requires of namespace names. */
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validateObjectName(value: string, flag: string, pattern: RegExp): void {
  if (!pattern.test(value)) {
    throw new Error(
      `invalid ${flag} "${value}": Kubernetes would reject it; use lowercase letters, digits and '-'` +
        (pattern === DNS_SUBDOMAIN ? " (and '.')" : ""),
    );
  }
}
