/**
 * Prometheus alerting rules for the metrics of `serve`, as a PrometheusRule object of the
 * Prometheus Operator (`monitoring.coreos.com/v1`). Its `spec` is also a plain Prometheus rule
 * file, so the same group loads into a Prometheus without the operator.
 *
 * @module
 */
import {
  CERT_EXPIRES_IN,
  DISCOVERY_ERRORS,
  LAST_SCAN_TIMESTAMP,
  PROBE_SUCCESS,
} from "./metric_names.ts";

/** Name of the rule group inside the PrometheusRule. */
export const RULE_GROUP_NAME = "trustwatch";
/** Default `metadata.name` of the PrometheusRule. */
export const DEFAULT_RULE_NAME = "trustwatch";
/** Default `metadata.namespace` of the PrometheusRule. */
export const DEFAULT_RULE_NAMESPACE = "monitoring";
/** How long an endpoint must stay unreadable before TrustwatchProbeFailed fires. */
export const PROBE_FAILED_FOR = "10m";
/** How long discovery errors must persist before TrustwatchDiscoveryErrors fires. */
export const DISCOVERY_ERRORS_FOR = "15m";
/** Shortest window over which TrustwatchDiscoveryErrors looks for new errors, in seconds. */
const MIN_DISCOVERY_WINDOW_SECONDS = 600;
/** How long a threshold must hold before the expiry warnings fire. */
export const EXPIRY_FOR = "5m";
/** How long the scan must stay stale before TrustwatchScanStale fires. */
export const SCAN_STALE_FOR = "5m";

/** Options of {@linkcode buildPrometheusRule}. */
export interface RuleOptions {
  /** `metadata.name`. @default {DEFAULT_RULE_NAME} */
  name?: string;
  /** `metadata.namespace`. @default {DEFAULT_RULE_NAMESPACE} */
  namespace?: string;
  /** `metadata.labels`, e.g. the label a Prometheus Operator `ruleSelector` matches. */
  labels?: Record<string, string>;
  /** Warning window in milliseconds, as `--warn-before`. */
  warnBeforeMs: number;
  /** Critical window in milliseconds, as `--crit-before`. */
  critBeforeMs: number;
  /** Interval between scans of `serve` in milliseconds; a scan older than twice this is stale. */
  refreshEveryMs: number;
}

/** One alerting rule of a Prometheus rule group. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: "warning" | "critical" };
  annotations: { summary: string; description: string; runbook: string };
}

/** A PrometheusRule object with one group. */
export interface PrometheusRule {
  apiVersion: "monitoring.coreos.com/v1";
  kind: "PrometheusRule";
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { groups: { name: string; rules: AlertingRule[] }[] };
}

/**
 * Builds the PrometheusRule with the alerts TrustwatchCertExpiringSoon,
 * TrustwatchCertExpiryCritical, TrustwatchCertExpired, TrustwatchProbeFailed,
 * TrustwatchDiscoveryErrors and TrustwatchScanStale. Throws when critBefore is not shorter than
 * warnBefore, since the two expiry alerts would then overlap.
 *
 * The expiry alerts follow the `severity` label trustwatch puts on each series, so an alert is
 * never more severe than `trustwatch now`. Only `critical` series page (expired, or inside
 * critBefore). A `warn` series inside warnBefore raises the warning alert even once expired (a CA
 * superseded in its bundle, a webhook with `failurePolicy: Ignore`). An `info` series (healthy,
 * or `MANAGED_EXPIRY`) never alerts.
 *
 * @example
 * ```ts
 * const rule = buildPrometheusRule({
 *   warnBeforeMs: 720 * 3_600_000,
 *   critBeforeMs: 336 * 3_600_000,
 *   refreshEveryMs: 120_000,
 * });
 * rule.spec.groups[0].rules.map((r) => r.alert);
 * ```
 */
export function buildPrometheusRule(options: RuleOptions): PrometheusRule {
  if (options.critBeforeMs >= options.warnBeforeMs) {
    throw new Error("the critical window must be shorter than the warning window");
  }
  const warnSeconds = Math.round(options.warnBeforeMs / 1000);
  const critSeconds = Math.round(options.critBeforeMs / 1000);
  const staleSeconds = Math.round((2 * options.refreshEveryMs) / 1000);
  const discoveryWindowSeconds = Math.max(
    MIN_DISCOVERY_WINDOW_SECONDS,
    Math.round((3 * options.refreshEveryMs) / 1000),
  );
  const where = "{{ $labels.source }} {{ $labels.namespace }}/{{ $labels.name }}" +
    "{{ with $labels.cluster }} in cluster {{ . }}{{ end }}";
  const critical = `${CERT_EXPIRES_IN}{severity="critical"}`;
  const warnOrCritical = `${CERT_EXPIRES_IN}{severity=~"warn|critical"}`;
  // humanizeDuration prints a negative value with a leading "-", which the "ago" form drops.
  const expiresOrExpired = "{{ if gt $value 0.0 }}expires in {{ $value | humanizeDuration }}" +
    '{{ else }}expired {{ reReplaceAll "^-" "" ($value | humanizeDuration) }} ago{{ end }}';

  const rules: AlertingRule[] = [
    {
      alert: "TrustwatchCertExpiringSoon",
      // Critical series inside critBefore belong to the two critical alerts. A critical series
      // further out is critical for another reason (e.g. an unverifiable chain on a fail-closed
      // webhook) and still gets the expiry warning.
      expr: `${warnOrCritical} <= ${warnSeconds} unless ${critical} <= ${critSeconds}`,
      for: EXPIRY_FOR,
      labels: { severity: "warning" },
      annotations: {
        summary: "Certificate expires within the warning window or expired at warning severity",
        description: `The certificate of ${where} ${expiresOrExpired}; trustwatch rates it ` +
          "{{ $labels.severity }}.",
        runbook:
          "Find the issuer with `trustwatch now -o json`, renew the certificate (for cert-manager: " +
          "`cmctl renew`), and check that the workload reloads it. An expired CA reported as " +
          "SUPERSEDED_CA has a replacement in the same bundle: remove it once every client " +
          "trusts the new CA.",
      },
    },
    {
      alert: "TrustwatchCertExpiryCritical",
      expr: `${critical} > 0 and ${critical} <= ${critSeconds}`,
      for: EXPIRY_FOR,
      labels: { severity: "critical" },
      annotations: {
        summary: "Certificate expires within the critical window",
        description: `The certificate of ${where} expires in {{ $value | humanizeDuration }}.`,
        runbook:
          "Renew the certificate now; if automatic renewal is configured, read the issuer's " +
          "logs and events for the reason it has not renewed.",
      },
    },
    {
      alert: "TrustwatchCertExpired",
      expr: `${critical} <= 0`,
      labels: { severity: "critical" },
      annotations: {
        summary: "Certificate has expired",
        description: `The certificate of ${where} has expired; clients that verify it fail.`,
        runbook: "Replace the certificate and restart or reload what serves it; for a webhook or " +
          "APIService also update the caBundle if the CA changed.",
      },
    },
    {
      alert: "TrustwatchProbeFailed",
      expr: `${PROBE_SUCCESS} == 0`,
      for: PROBE_FAILED_FOR,
      labels: { severity: "warning" },
      annotations: {
        summary: "Certificate could not be read",
        description: `trustwatch could not read the certificate of ${where}: the endpoint is ` +
          "unreachable, the handshake failed, or the Secret is missing or not a certificate.",
        runbook:
          "Run `trustwatch now -o json` and read `probeError`; check that the Service has ready " +
          "endpoints and that network policies let trustwatch reach it.",
      },
    },
    {
      alert: "TrustwatchDiscoveryErrors",
      expr: `increase(${DISCOVERY_ERRORS}[${discoveryWindowSeconds}s]) > 0`,
      for: DISCOVERY_ERRORS_FOR,
      labels: { severity: "warning" },
      annotations: {
        summary: "trustwatch cannot list part of the cluster",
        description: "Discovery of {{ $labels.source }} has failed in recent scans; the " +
          "certificates it finds are not being checked.",
        runbook: "Read the serve logs for the discoverer's error; it is usually missing RBAC " +
          "(list secrets, webhooks or APIServices) or a timeout against the API server.",
      },
    },
    {
      alert: "TrustwatchScanStale",
      expr: `time() - ${LAST_SCAN_TIMESTAMP} > ${staleSeconds}`,
      for: SCAN_STALE_FOR,
      labels: { severity: "warning" },
      annotations: {
        summary: "trustwatch has not completed a scan recently",
        description: "The last completed scan{{ with $labels.cluster }} of cluster {{ . }}" +
          "{{ end }} is {{ $value | humanizeDuration }} old, more than twice the refresh " +
          "interval; certificate metrics are out of date.",
        runbook:
          "Check /readyz and the serve logs for scans that time out; raise --scan-timeout or " +
          "scope with namespaces, and check the API server's latency.",
      },
    },
  ];

  const metadata: PrometheusRule["metadata"] = {
    name: options.name ?? DEFAULT_RULE_NAME,
    namespace: options.namespace ?? DEFAULT_RULE_NAMESPACE,
  };
  if (options.labels && Object.keys(options.labels).length > 0) {
    metadata.labels = { ...options.labels };
  }
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata,
    spec: { groups: [{ name: RULE_GROUP_NAME, rules }] },
  };
}

/**
 * Parses `--labels k=v,k2=v2` into a map. Throws naming the entry when it is not `key=value`
 * with a Kubernetes label key.
 */
export function parseLabelList(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const equals = entry.indexOf("=");
    const key = equals > 0 ? entry.slice(0, equals) : "";
    const value = equals > 0 ? entry.slice(equals + 1) : "";
    if (!LABEL_KEY_PATTERN.test(key) || !LABEL_VALUE_PATTERN.test(value)) {
      throw new Error(
        `invalid label "${entry}": expected key=value with a Kubernetes label key and value, ` +
          "e.g. release=kube-prometheus-stack",
      );
    }
    labels[key] = value;
  }
  return labels;
}

const LABEL_KEY_PATTERN =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
