/**
 * Liveness and readiness of `serve`, computed from the scan loop's status and a clock, so the
 * rules can be tested without waiting.
 *
 * - `/healthz` fails before the first scan completes and when the last completed scan is older
 *   than twice the refresh interval: the loop is stuck.
 * - `/readyz` reports the last scan and is ready once a snapshot exists.
 *
 * @module
 */
import type { ScanStatus } from "./scan_loop.ts";

/** The result of a liveness check. */
export interface Health {
  healthy: boolean;
  /** The reason the service is unhealthy, or "ok". */
  reason: string;
}

/** The body of `/readyz`. */
export interface Readiness {
  /** RFC 3339 time the last scan completed, or null before the first. */
  lastScan: string | null;
  /** Age of the last completed scan as a Go duration (`1m30s`), or null before the first. */
  scanAge: string | null;
  /** Age of the last completed scan in seconds, or null before the first. */
  scanAgeSeconds: number | null;
  /** Discovery errors of the last scan. */
  discoveryErrors: number;
  /** Findings of the last scan, healthy ones included. */
  findingsCount: number;
  /** Whether a snapshot is available. */
  ready: boolean;
}

/** Checks liveness at `nowMs` for a loop that scans every `intervalMs`. */
export function checkHealth(status: ScanStatus, nowMs: number, intervalMs: number): Health {
  if (status.lastCompletedAtMs === undefined) {
    const waitedSeconds = Math.round((nowMs - status.startedAtMs) / 1000);
    return {
      healthy: false,
      reason: `no scan has completed yet (started ${waitedSeconds}s ago)`,
    };
  }
  const ageMs = nowMs - status.lastCompletedAtMs;
  if (ageMs > 2 * intervalMs) {
    return {
      healthy: false,
      reason: `the last scan completed ${formatGoDuration(ageMs)} ago, more than twice the ` +
        `refresh interval of ${formatGoDuration(intervalMs)}`,
    };
  }
  return { healthy: true, reason: "ok" };
}

/** Builds the `/readyz` body at `nowMs`. */
export function readinessOf(status: ScanStatus, nowMs: number): Readiness {
  if (status.lastCompletedAtMs === undefined || !status.snapshot) {
    return {
      lastScan: null,
      scanAge: null,
      scanAgeSeconds: null,
      discoveryErrors: 0,
      findingsCount: 0,
      ready: false,
    };
  }
  const ageMs = Math.max(0, nowMs - status.lastCompletedAtMs);
  return {
    lastScan: new Date(status.lastCompletedAtMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    scanAge: formatGoDuration(ageMs),
    scanAgeSeconds: Math.round(ageMs / 1000),
    discoveryErrors: status.snapshot.errors.length,
    findingsCount: status.snapshot.findings.length,
    ready: true,
  };
}

/** Formats milliseconds as a Go duration rounded to seconds: `0s`, `45s`, `2m5s`, `1h0m3s`. */
export function formatGoDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
