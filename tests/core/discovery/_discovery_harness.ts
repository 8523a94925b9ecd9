/**
 * Shared set-up of the discoverer tests: a sandbox cluster, a DiscoveryContext for it, the
 * targets one discoverer yields, and a full scan restricted to that discoverer.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Config, defaultConfig } from "../../../core/config.ts";
import type { Discoverer, DiscoveryContext } from "../../../core/discovery/discoverer.ts";
import { parseDuration } from "../../../core/duration.ts";
import { connectToCluster, type KubeClient } from "../../../core/kube/client.ts";
import type { Finding, Snapshot } from "../../../core/model.ts";
import { parseResolveEntry, ResolveMap } from "../../../core/probe/resolve.ts";
import { runScan } from "../../../core/scan.ts";
import type { Target } from "../../../core/target.ts";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../sandbox/server.ts";

/** Probe timeout of test scans: every endpoint is on loopback, so a handshake is quick. */
export const TEST_PROBE_TIMEOUT_MS = 5_000;

/** A running sandbox with a client connected to it. */
export interface ConnectedSandbox {
  sandbox: Sandbox;
  kube: KubeClient;
}

/** Starts a sandbox, connects to it, runs `body` and always closes the sandbox. */
export async function withSandbox(
  options: SandboxOptions,
  body: (cluster: ConnectedSandbox) => Promise<void>,
): Promise<void> {
  const sandbox = await startSandbox(options);
  try {
    const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
    await body({ sandbox, kube });
  } finally {
    await sandbox.close();
  }
}

/** Builds the context a discoverer receives during a scan. */
export function discoveryContext(
  kube: KubeClient | undefined,
  options: { namespaces?: string[]; config?: Config } = {},
): DiscoveryContext {
  return {
    kube,
    namespaces: options.namespaces ?? [],
    config: options.config ?? defaultConfig(),
    signal: new AbortController().signal,
    logger: getLogger(["trustwatch", "test", "discovery"]),
  };
}

/** Returns every target a discoverer yields, in order. */
export async function discoverAll(
  discoverer: Discoverer,
  context: DiscoveryContext,
): Promise<Target[]> {
  const targets: Target[] = [];
  for await (const target of discoverer.discover(context)) targets.push(target);
  return targets;
}

/**
 * Runs a full scan with only `discoverer`, dialing nothing but the sandbox's TLS backends,
 * loopback literals and the extra `resolve` entries (`HOST:PORT:ADDR`).
 */
export function scanWith(
  discoverer: Discoverer,
  options: {
    kube?: KubeClient;
    sandbox?: Sandbox;
    resolve?: string[];
    namespaces?: string[];
    config?: Config;
  },
): Promise<Snapshot> {
  const config = options.config ?? defaultConfig();
  const entries = [...options.sandbox?.resolveEntries ?? [], ...options.resolve ?? []];
  return runScan({
    kube: options.kube,
    config,
    namespaces: options.namespaces,
    thresholds: {
      warnBeforeMs: parseDuration(config.warnBefore),
      critBeforeMs: parseDuration(config.critBefore),
    },
    probe: {
      resolve: new ResolveMap(entries.map(parseResolveEntry)),
      resolveOnly: true,
      timeoutMs: TEST_PROBE_TIMEOUT_MS,
    },
    discoverers: [discoverer],
  });
}

/** Returns the only finding matching `where`, failing with the list of findings otherwise. */
export function onlyFinding(
  snapshot: Snapshot,
  where: (finding: Finding) => boolean,
  description: string,
): Finding {
  const matching = snapshot.findings.filter(where);
  if (matching.length !== 1) {
    throw new Error(
      `expected one finding for ${description}, found ${matching.length}: ${
        JSON.stringify(snapshot.findings.map(summarize), null, 1)
      }`,
    );
  }
  return matching[0];
}

/** Returns `severity source namespace/name target findingType`, for readable comparisons. */
export function summarize(finding: Finding): string {
  const where = finding.namespace ? `${finding.namespace}/${finding.name}` : finding.name;
  return [
    finding.severity,
    finding.source,
    where,
    finding.target ?? "-",
    finding.findingType ?? "-",
  ]
    .join(" ");
}

/** Encodes bytes or UTF-8 text as base64, the form of Secret data and caBundle fields. */
export function toBase64(content: Uint8Array | string): string {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Encodes UTF-8 text, the form discoverers hand on after decoding base64 fields. */
export function utf8Bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
