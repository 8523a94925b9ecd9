/**
 * The running `serve` service: the scan loop, the metrics it feeds, and the HTTP server, with a
 * shutdown that completes within {@linkcode SHUTDOWN_BUDGET_MS}.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Thresholds } from "../core/classify.ts";
import type { Config } from "../core/config.ts";
import type { Discoverer } from "../core/discovery/discoverer.ts";
import type { KubeClient } from "../core/kube/client.ts";
import type { Snapshot } from "../core/model.ts";
import type { ProberOptions } from "../core/probe/prober.ts";
import { defaultDiscoverers, runScan } from "../core/scan.ts";
import { createApp } from "./app.ts";
import { TrustwatchMetrics } from "./metrics.ts";
import { ScanLoop, type ScanStatus, STOP_GRACE_MS } from "./scan_loop.ts";

/** Time the HTTP server gets to finish in-flight requests at shutdown. */
export const HTTP_DRAIN_MS = 3_000;
/** Upper bound of a graceful shutdown: the loop's grace period, run alongside the HTTP drain. */
export const SHUTDOWN_BUDGET_MS = Math.max(STOP_GRACE_MS, HTTP_DRAIN_MS);

/** Options of {@linkcode startService}. */
export interface ServiceOptions {
  kube?: KubeClient;
  config: Config;
  /** Namespaces to scan; empty means all. */
  namespaces: string[];
  thresholds: Thresholds;
  refreshEveryMs: number;
  scanTimeoutMs?: number;
  probe?: Omit<ProberOptions, "signal">;
  /** Host name or address to listen on; `0.0.0.0` for every IPv4 interface. */
  hostname: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Discoverers to run; every built-in one when omitted. */
  discoverers?: () => Discoverer[];
}

/** A started service. */
export interface Service {
  /** The address the HTTP server listens on. */
  addr: Deno.NetAddr;
  metrics: TrustwatchMetrics;
  status(): ScanStatus;
  /** Stops the scan loop and the HTTP server; resolves within about {@linkcode SHUTDOWN_BUDGET_MS}. */
  shutdown(): Promise<void>;
}

/** Starts the scan loop and the HTTP server. Throws when the address cannot be bound. */
export function startService(options: ServiceOptions): Service {
  const logger = getLogger(["trustwatch", "serve"]);
  const makeDiscoverers = options.discoverers ?? defaultDiscoverers;
  const sources = [...new Set(makeDiscoverers().map((discoverer) => discoverer.source))];
  const metrics = new TrustwatchMetrics({ clusterName: options.config.clusterName, sources });

  const loop = new ScanLoop({
    intervalMs: options.refreshEveryMs,
    scan: (signal) => scanOnce(options, makeDiscoverers(), metrics, signal),
    onSnapshot: (snapshot, timing) => {
      metrics.recordScan(snapshot, timing);
      logScan(snapshot, timing.durationMs);
    },
  });

  const handler = createApp({
    metrics,
    metricsPath: options.config.metricsPath,
    refreshEveryMs: options.refreshEveryMs,
    status: () => loop.status,
  });
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
  }, handler);
  logger.info("listening on http://{address}, metrics at {metricsPath}", {
    address: formatAddress(server.addr),
    metricsPath: options.config.metricsPath,
  });
  loop.start();

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down");
      await Promise.all([loop.stop(), drainServer(server)]);
      logger.info("stopped");
    })();
    return stopping;
  };

  return { addr: server.addr, metrics, status: () => loop.status, shutdown };
}

async function scanOnce(
  options: ServiceOptions,
  discoverers: Discoverer[],
  metrics: TrustwatchMetrics,
  signal: AbortSignal,
): Promise<Snapshot> {
  return await runScan({
    kube: options.kube,
    config: options.config,
    // Copied per scan, and discoverers list the cluster anew, so namespaces and objects created
    // since the last scan are picked up.
    namespaces: [...options.namespaces],
    thresholds: options.thresholds,
    scanTimeoutMs: options.scanTimeoutMs,
    probe: options.probe,
    discoverers: discoverers.map((discoverer) => timed(discoverer, metrics)),
    signal,
  });
}

/**
 * Wraps a discoverer so its run time, from the first request to the last target or the error,
 * is observed in the duration histogram. Several discoverers may share a source.
 */
function timed(discoverer: Discoverer, metrics: TrustwatchMetrics): Discoverer {
  return {
    source: discoverer.source,
    needsCluster: discoverer.needsCluster,
    async *discover(context) {
      const started = performance.now();
      try {
        yield* discoverer.discover(context);
      } finally {
        metrics.observeDiscoverer(discoverer.source, (performance.now() - started) / 1000);
      }
    },
  };
}

function logScan(snapshot: Snapshot, durationMs: number): void {
  const count = (severity: string) =>
    snapshot.findings.filter((finding) => finding.severity === severity).length;
  getLogger(["trustwatch", "serve"]).info(
    "scan completed in {seconds}s: {critical} critical, {warn} warn, {info} healthy, " +
      "{errors} discovery errors",
    {
      seconds: Math.round(durationMs / 100) / 10,
      critical: count("critical"),
      warn: count("warn"),
      info: count("info"),
      errors: snapshot.errors.length,
    },
  );
}

async function drainServer(server: Deno.HttpServer<Deno.NetAddr>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      getLogger(["trustwatch", "serve"]).warn(
        "HTTP requests still open after {ms} ms; closing anyway",
        { ms: HTTP_DRAIN_MS },
      );
      resolve();
    }, HTTP_DRAIN_MS);
  });
  try {
    await Promise.race([server.shutdown(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Formats a listen address as `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Parses a listen address `[HOST]:PORT` (`:8080`, `127.0.0.1:0`, `[::1]:9090`). An empty host
 * means every IPv4 interface. Throws naming the value when it is not `[HOST]:PORT`.
 */
export function parseListenAddress(text: string): { hostname: string; port: number } {
  const match = /^(\[[^\]]*\]|[^:\[\]]*):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new Error(
      `invalid listen address "${text}": expected [HOST]:PORT, e.g. :8080 or 127.0.0.1:8080`,
    );
  }
  const host = match[1].replace(/^\[|\]$/g, "");
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}
