/**
 * Names of the Prometheus metrics `serve` exports. The metrics registry and the alerting rules
 * both read them from here, so a rule can never query a metric under a stale name.
 *
 * @module
 */

/** Unix time a certificate expires {source, namespace, name, severity, cluster}. */
export const CERT_NOT_AFTER = "trustwatch_cert_not_after_timestamp";
/** Seconds until a certificate expires, negative once expired; computed at scrape time. */
export const CERT_EXPIRES_IN = "trustwatch_cert_expires_in_seconds";
/** 1 when the certificate of an object or endpoint could be read, else 0. */
export const PROBE_SUCCESS = "trustwatch_probe_success";
/** Wall-clock duration of the last completed scan. */
export const SCAN_DURATION = "trustwatch_scan_duration_seconds";
/** Unix time the last scan completed. */
export const LAST_SCAN_TIMESTAMP = "trustwatch_last_scan_timestamp_seconds";
/** Findings of the last scan by severity. */
export const FINDINGS = "trustwatch_findings";
/** Findings with chain errors in the last scan, by source. */
export const CHAIN_ERRORS = "trustwatch_chain_errors";
/** Discovery errors since start, by source. */
export const DISCOVERY_ERRORS = "trustwatch_discovery_errors_total";
/** Run time of each discoverer, by source. */
export const DISCOVERER_DURATION = "trustwatch_discoverer_duration_seconds";
