/**
 * The scan pipeline: run the discoverers in parallel, probe endpoints as their targets arrive,
 * analyse and classify, and assemble a snapshot. A failing discoverer is recorded in
 * `snapshot.errors` and never stops the others.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  assessEndpoint,
  assessMaterial,
  type Assessment,
  assessProblem,
  formatTime,
} from "./analyze.ts";
import { classify, type Thresholds } from "./classify.ts";
import type { Config } from "./config.ts";
import { ApiServerDiscoverer } from "./discovery/apiserver.ts";
import { ApiServiceDiscoverer } from "./discovery/apiservices.ts";
import { CrdConversionDiscoverer } from "./discovery/crd_conversion.ts";
import { SpiffeDiscoverer } from "./discovery/spiffe.ts";
import { AnnotationDiscoverer } from "./discovery/annotations.ts";
import { CertManagerDiscoverer } from "./discovery/certmanager.ts";
import { CertManagerRenewalDiscoverer } from "./discovery/certmanager_renewal.ts";
import type { Discoverer, DiscoveryContext } from "./discovery/discoverer.ts";
import { formatDuration, timerDurationProblem } from "./duration.ts";
import { GatewayDiscoverer } from "./discovery/gateway.ts";
import { IstioDiscoverer } from "./discovery/istio.ts";
import { LinkerdDiscoverer } from "./discovery/linkerd.ts";
import { ExternalDiscoverer } from "./discovery/external.ts";
import { IngressDiscoverer } from "./discovery/ingress.ts";
import { TlsSecretDiscoverer } from "./discovery/tls_secrets.ts";
import { WebhookDiscoverer } from "./discovery/webhooks.ts";
import { NamespaceAccess } from "./kube/access.ts";
import { isNotServed, type KubeClient } from "./kube/client.ts";
import { postProcess } from "./postprocess.ts";
import { compareFindings, type ScanError, type Snapshot, type SourceKind } from "./model.ts";
import { Prober, type ProberOptions } from "./probe/prober.ts";
import type { Target } from "./target.ts";

/** Default limit of a whole scan: discovery and probing. */
export const DEFAULT_SCAN_TIMEOUT_MS = 120_000;

/** Options of {@linkcode runScan}. */
export interface ScanOptions {
  /** The cluster; without one only discoverers that need no cluster run. */
  kube?: KubeClient;
  config: Config;
  /** Namespaces to scan; empty means all. */
  namespaces?: string[];
  thresholds: Thresholds;
  /** @default {DEFAULT_SCAN_TIMEOUT_MS} */
  scanTimeoutMs?: number;
  /** Probe timeout, concurrency and resolver overrides. */
  probe?: Omit<ProberOptions, "signal">;
  /** Discoverers to run; every built-in one when omitted. */
  discoverers?: Discoverer[];
  /** Cancels the scan from outside (SIGINT). */
  signal?: AbortSignal;
  /**
   * Called when a discoverer starts, yields a target, or finishes, and when a target's check
   * (probe or parse) completes; for progress displays.
   */
  onProgress?: (event: ScanProgress) => void;
}

/** A progress event of one discoverer; `checked` follows each `target` once it is assessed. */
export interface ScanProgress {
  source: Discoverer["source"];
  phase: "start" | "target" | "checked" | "done" | "error";
}

/** Returns one instance of every built-in discoverer. */
export function defaultDiscoverers(): Discoverer[] {
  return [
    new ApiServerDiscoverer(),
    new WebhookDiscoverer(),
    new ApiServiceDiscoverer(),
    new CrdConversionDiscoverer(),
    new TlsSecretDiscoverer(),
    new IngressDiscoverer(),
    new ExternalDiscoverer(),
    new LinkerdDiscoverer(),
    new IstioDiscoverer(),
    new GatewayDiscoverer(),
    new CertManagerDiscoverer(),
    new CertManagerRenewalDiscoverer(),
    new AnnotationDiscoverer(),
    new SpiffeDiscoverer(),
  ];
}

/**
 * Runs one scan and returns its snapshot; never throws for cluster or endpoint problems. Throws
 * `RangeError` unless `scanTimeoutMs` is above 0 and at most `MAX_TIMER_DURATION_MS`.
 */
export async function runScan(options: ScanOptions): Promise<Snapshot> {
  const logger = getLogger(["trustwatch", "scan"]);
  const at = new Date();
  const timeoutMs = options.scanTimeoutMs ?? DEFAULT_SCAN_TIMEOUT_MS;
  const timeoutProblem = timerDurationProblem(timeoutMs);
  if (timeoutProblem) {
    throw new RangeError(`invalid scan timeout ${timeoutMs}ms: ${timeoutProblem}`);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ScanTimeoutError(timeoutMs)), timeoutMs);
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const prober = new Prober({ ...options.probe, signal: controller.signal });
  const errors: ScanError[] = [];
  const assessments: Promise<Assessment[]>[] = [];
  const interrupted: Interruption = { cutShort: new Set(), cancelledProbes: new Map() };
  const namespaces = options.namespaces ?? options.config.namespaces;
  const discoveryLogger = getLogger(["trustwatch", "discovery"]);
  const access = options.kube
    ? new NamespaceAccess(options.kube, {
      namespaces,
      logger: discoveryLogger,
      signal: controller.signal,
    })
    : undefined;
  const context: DiscoveryContext = {
    kube: options.kube,
    namespaces,
    config: options.config,
    signal: controller.signal,
    logger: discoveryLogger,
    access,
  };
  const discoverers = (options.discoverers ?? defaultDiscoverers())
    .filter((discoverer) => options.kube || !discoverer.needsCluster);

  logger.info("scan started with {count} discoverers", { count: discoverers.length });
  try {
    const runs = discoverers.map((discoverer) =>
      runDiscoverer(
        discoverer,
        context,
        (target) => {
          const assessed = assess(target, prober, at, (address) => {
            const addresses = interrupted.cancelledProbes.get(discoverer.source) ?? new Set();
            interrupted.cancelledProbes.set(discoverer.source, addresses.add(address));
          });
          assessments.push(assessed);
          options.onProgress?.({ source: discoverer.source, phase: "target" });
          assessed.then(
            () => options.onProgress?.({ source: discoverer.source, phase: "checked" }),
            () => {},
          );
        },
        errors,
        interrupted.cutShort,
        options.onProgress,
      )
    );
    await Promise.all(runs);
    if (access) errors.push(...access.scanErrors());
    const assessed = (await Promise.all(assessments)).flat();
    if (controller.signal.aborted) {
      errors.push(...interruptionErrors(controller.signal.reason, interrupted, discoverers));
    }
    const classified = assessed
      .map((assessment) => ({
        assessment,
        finding: classify(assessment, options.thresholds, at),
      }));
    const findings = postProcess(classified, options.thresholds, at);
    if (options.config.clusterName) {
      for (const finding of findings) finding.cluster = options.config.clusterName;
    }
    findings.sort(compareFindings);
    logger.info("scan finished: {findings} findings, {errors} errors", {
      findings: findings.length,
      errors: errors.length,
    });
    return { at: formatTime(at), errors, findings };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** The scan reached `--scan-timeout`; the message names the limit and the flag. */
export class ScanTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`scan timed out after ${formatDuration(timeoutMs)} (--scan-timeout)`);
    this.name = "ScanTimeoutError";
  }
}

/** The parts of a scan that its abort left unfinished, per discoverer source. */
interface Interruption {
  /** Discoverers stopped before they listed every target. */
  cutShort: Set<SourceKind>;
  /** Addresses whose probe the abort cancelled; their targets are left out of the findings. */
  cancelledProbes: Map<SourceKind, Set<string>>;
}

function abortMessage(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return "scan cancelled";
}

/**
 * Builds one scan error per source that the abort left unfinished, in discoverer order: the
 * reason, whether discovery was cut short, how many probes were cancelled, and what to change.
 */
function interruptionErrors(
  reason: unknown,
  interrupted: Interruption,
  discoverers: Discoverer[],
): ScanError[] {
  const errors: ScanError[] = [];
  for (const { source } of discoverers) {
    const cutShort = interrupted.cutShort.has(source);
    const probes = interrupted.cancelledProbes.get(source)?.size ?? 0;
    if (!cutShort && probes === 0) continue;

    const details: string[] = [];
    if (cutShort) details.push("before discovery finished");
    if (probes > 0) {
      details.push(`with ${probes} ${probes === 1 ? "probe" : "probes"} still running`);
    }
    let message = `${abortMessage(reason)} ${details.join(", ")}`;
    if (reason instanceof ScanTimeoutError) {
      const fixes = ["raise --scan-timeout"];
      if (probes > 0) fixes.push("lower --probe-timeout");
      if (cutShort) fixes.push("scope with --namespace");
      message += `; ${joinAlternatives(fixes)}`;
    }
    errors.push({ source, message });
  }
  return errors;
}

/** Joins `["a", "b", "c"]` as `a, b or c`. */
function joinAlternatives(items: string[]): string {
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

async function runDiscoverer(
  discoverer: Discoverer,
  context: DiscoveryContext,
  onTarget: (target: Target) => void,
  errors: ScanError[],
  cutShort: Set<SourceKind>,
  onProgress?: (event: ScanProgress) => void,
): Promise<void> {
  const logger = context.logger.with({ discoverer: discoverer.source });
  const started = performance.now();
  logger.debug("discoverer {discoverer} started");
  onProgress?.({ source: discoverer.source, phase: "start" });
  let count = 0;
  try {
    for await (const target of discoverer.discover(context)) {
      if (context.signal.aborted) break;
      count++;
      onTarget(target);
    }
    if (context.signal.aborted) {
      cutShort.add(discoverer.source);
      return;
    }
    logger.debug("discoverer {discoverer} finished with {count} targets in {ms} ms", {
      count,
      ms: Math.round(performance.now() - started),
    });
    onProgress?.({ source: discoverer.source, phase: "done" });
  } catch (error) {
    onProgress?.({ source: discoverer.source, phase: "error" });
    if (isNotServed(error)) {
      logger.debug("discoverer {discoverer} skipped: resource not served by this cluster");
      return;
    }
    if (context.signal.aborted) {
      cutShort.add(discoverer.source);
      return;
    }
    const message = (error as Error).message ?? String(error);
    logger.error("discoverer {discoverer} failed after {count} targets: {message}", {
      count,
      message,
    });
    errors.push({ source: discoverer.source, message });
  }
}

/**
 * Checks one target. A probe that the scan's abort cancelled read nothing about the endpoint, so
 * it yields no assessment (never a false PROBE_FAILED finding) and is passed to `onCancelled`.
 */
const RELEASED_BYTES = new Uint8Array();

async function assess(
  target: Target,
  prober: Prober,
  at: Date,
  onCancelled: (address: string) => void,
): Promise<Assessment[]> {
  switch (target.kind) {
    case "endpoint": {
      const result = await prober.probe(target.endpoint);
      if (result.errorCode === "CANCELLED") {
        onCancelled(result.address);
        return [];
      }
      return [assessEndpoint(target, result, at)];
    }
    case "material": {
      const assessments = assessMaterial(target, at);
      // The facts are read; drop the raw bytes so a large cluster's certificates are not all held
      // until the snapshot is assembled.
      target.bytes = RELEASED_BYTES;
      target.anchors = undefined;
      return assessments;
    }
    case "problem":
      return [assessProblem(target)];
  }
}
