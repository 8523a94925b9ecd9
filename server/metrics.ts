/**
 * The Prometheus metrics of `serve`, in a registry of their own: prom-client's default process
 * metrics are never registered, because several of them fail `promtool check metrics`.
 *
 * Per-certificate series are rebuilt from every snapshot, so the series of an object that
 * disappeared, or of a finding whose severity changed, is removed rather than left at its last
 * value.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  CERT_EXPIRES_IN,
  CERT_NOT_AFTER,
  CHAIN_ERRORS,
  DISCOVERER_DURATION,
  DISCOVERY_ERRORS,
  FINDINGS,
  LAST_SCAN_TIMESTAMP,
  PROBE_SUCCESS,
  SCAN_DURATION,
} from "../core/metric_names.ts";
import {
  type Finding,
  SEVERITIES,
  type Snapshot,
  type SourceKind,
  ZERO_TIME,
} from "../core/model.ts";

/** Buckets of the discoverer duration histogram, in seconds: from one API call to a slow scan. */
export const DISCOVERER_DURATION_BUCKETS_SECONDS = [
  0.01,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

const CERT_LABELS = ["source", "namespace", "name", "severity", "cluster"] as const;
const PROBE_LABELS = ["source", "namespace", "name", "cluster"] as const;

type CertLabels = Record<typeof CERT_LABELS[number], string>;
type ProbeLabels = Record<typeof PROBE_LABELS[number], string>;

/** Options of {@linkcode TrustwatchMetrics}. */
export interface MetricsOptions {
  /** `cluster` label of findings that carry none. @default {""} */
  clusterName?: string;
  /** Sources whose counters and gauges exist from the start, at zero. */
  sources: readonly SourceKind[];
  /** Clock for `trustwatch_cert_expires_in_seconds`, in Unix milliseconds. @default {Date.now} */
  now?: () => number;
}

/** Timing of a scan, recorded by {@linkcode TrustwatchMetrics.recordScan}. */
export interface ScanTiming {
  durationMs: number;
  /** Unix milliseconds the scan completed. */
  completedAtMs: number;
}

/** The metrics registry of one `serve` process. */
export class TrustwatchMetrics {
  /** The registry with trustwatch's metrics only. */
  readonly registry: Registry = new Registry();
  #clusterName: string;
  #sources: readonly SourceKind[];
  #now: () => number;
  /** Expiry in Unix seconds per certificate series, read by the scrape-time expires-in gauge. */
  #certificates = new Map<string, { labels: CertLabels; notAfterSeconds: number }>();

  #notAfter: Gauge<typeof CERT_LABELS[number]>;
  #expiresIn: Gauge<typeof CERT_LABELS[number]>;
  #probeSuccess: Gauge<typeof PROBE_LABELS[number]>;
  #scanDuration: Gauge;
  #lastScan: Gauge;
  #findings: Gauge<"severity">;
  #chainErrors: Gauge<"source">;
  #discoveryErrors: Counter<"source">;
  #discovererDuration: Histogram<"source">;

  constructor(options: MetricsOptions) {
    this.#clusterName = options.clusterName ?? "";
    this.#sources = options.sources;
    this.#now = options.now ?? Date.now;
    const registers = [this.registry];

    this.#notAfter = new Gauge({
      name: CERT_NOT_AFTER,
      help: "Unix time the certificate expires (notAfter).",
      labelNames: CERT_LABELS,
      registers,
    });
    this.#expiresIn = new Gauge({
      name: CERT_EXPIRES_IN,
      help: "Seconds until the certificate expires at scrape time; negative once expired.",
      labelNames: CERT_LABELS,
      registers,
      collect: () => this.#refreshExpiresIn(),
    });
    this.#probeSuccess = new Gauge({
      name: PROBE_SUCCESS,
      help: "1 when the certificate of the object or endpoint could be read in the last scan, " +
        "else 0.",
      labelNames: PROBE_LABELS,
      registers,
    });
    this.#scanDuration = new Gauge({
      name: SCAN_DURATION,
      help: "Duration of the last completed scan in seconds.",
      registers,
    });
    this.#lastScan = new Gauge({
      name: LAST_SCAN_TIMESTAMP,
      help: "Unix time the last scan completed.",
      registers,
    });
    this.#findings = new Gauge({
      name: FINDINGS,
      help: "Findings of the last scan by severity.",
      labelNames: ["severity"],
      registers,
    });
    this.#chainErrors = new Gauge({
      name: CHAIN_ERRORS,
      help: "Findings with certificate chain errors in the last scan, by source.",
      labelNames: ["source"],
      registers,
    });
    this.#discoveryErrors = new Counter({
      name: DISCOVERY_ERRORS,
      help: "Discovery errors since the process started, by source.",
      labelNames: ["source"],
      registers,
    });
    this.#discovererDuration = new Histogram({
      name: DISCOVERER_DURATION,
      help: "Run time of each discoverer in seconds, by source.",
      labelNames: ["source"],
      buckets: DISCOVERER_DURATION_BUCKETS_SECONDS,
      registers,
    });

    for (const source of this.#sources) this.#discoveryErrors.inc({ source }, 0);
  }

  /** Content type of {@linkcode metrics}, the Prometheus text format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Renders every metric in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Records how long one discoverer ran. */
  observeDiscoverer(source: SourceKind, seconds: number): void {
    this.#discovererDuration.observe({ source }, seconds);
  }

  /** Replaces the per-scan series with those of `snapshot` and counts its discovery errors. */
  recordScan(snapshot: Snapshot, timing: ScanTiming): void {
    this.#recordCertificates(snapshot.findings);
    this.#recordProbes(snapshot.findings);
    this.#recordCounts(snapshot);
    for (const error of snapshot.errors) this.#discoveryErrors.inc({ source: error.source });
    this.#scanDuration.set(timing.durationMs / 1000);
    this.#lastScan.set(timing.completedAtMs / 1000);
  }

  #recordCertificates(findings: Finding[]): void {
    const certificates = new Map<string, { labels: CertLabels; notAfterSeconds: number }>();
    for (const finding of findings) {
      if (finding.notAfter === ZERO_TIME) continue;
      const notAfterMs = Date.parse(finding.notAfter);
      if (Number.isNaN(notAfterMs)) continue;
      const labels: CertLabels = { ...this.#probeLabels(finding), severity: finding.severity };
      const key = seriesKey(labels);
      const notAfterSeconds = notAfterMs / 1000;
      const existing = certificates.get(key);
      // Several certificates can share one label set (a bundle in one Secret): alert on the
      // earliest expiry among them.
      if (!existing || notAfterSeconds < existing.notAfterSeconds) {
        certificates.set(key, { labels, notAfterSeconds });
      }
    }

    this.#certificates = certificates;
    this.#notAfter.reset();
    for (const { labels, notAfterSeconds } of certificates.values()) {
      this.#notAfter.set(labels, notAfterSeconds);
    }
  }

  #refreshExpiresIn(): void {
    const nowSeconds = this.#now() / 1000;
    this.#expiresIn.reset();
    for (const { labels, notAfterSeconds } of this.#certificates.values()) {
      this.#expiresIn.set(labels, Math.round(notAfterSeconds - nowSeconds));
    }
  }

  #recordProbes(findings: Finding[]): void {
    const success = new Map<string, { labels: ProbeLabels; ok: boolean }>();
    for (const finding of findings) {
      const labels = this.#probeLabels(finding);
      const key = seriesKey(labels);
      const existing = success.get(key);
      success.set(key, { labels, ok: (existing?.ok ?? true) && finding.probeOk });
    }

    this.#probeSuccess.reset();
    for (const { labels, ok } of success.values()) this.#probeSuccess.set(labels, ok ? 1 : 0);
  }

  #recordCounts(snapshot: Snapshot): void {
    this.#findings.reset();
    for (const severity of SEVERITIES) {
      const count = snapshot.findings.filter((finding) => finding.severity === severity).length;
      this.#findings.set({ severity }, count);
    }

    const chainErrors = new Map<string, number>(this.#sources.map((source) => [source, 0]));
    for (const finding of snapshot.findings) {
      const count = chainErrors.get(finding.source) ?? 0;
      const hasChainErrors = (finding.chainErrors?.length ?? 0) > 0;
      chainErrors.set(finding.source, count + (hasChainErrors ? 1 : 0));
    }
    this.#chainErrors.reset();
    for (const [source, count] of chainErrors) this.#chainErrors.set({ source }, count);
  }

  #probeLabels(finding: Finding): ProbeLabels {
    return {
      source: finding.source,
      namespace: finding.namespace ?? "",
      name: finding.name ?? finding.target ?? "",
      cluster: finding.cluster ?? this.#clusterName,
    };
  }
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels));
}
