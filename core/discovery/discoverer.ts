/**
 * The discoverer interface: one implementation per trust surface, each listing objects and
 * yielding targets. Discoverers never dial endpoints and never decide severity.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "../config.ts";
import type { KubeClient } from "../kube/client.ts";
import type { SourceKind } from "../model.ts";
import type { Target } from "../target.ts";

/** What a discoverer may use. */
export interface DiscoveryContext {
  /** The cluster; absent when trustwatch runs without one (external targets only). */
  kube?: KubeClient;
  /** Namespaces to read namespaced objects from; empty means all. */
  namespaces: string[];
  config: Config;
  signal: AbortSignal;
  logger: Logger;
}

/** Lists the objects of one trust surface and describes where their certificates are. */
export interface Discoverer {
  readonly source: SourceKind;
  /** Whether it reads the Kubernetes API (and is skipped without a cluster). */
  readonly needsCluster: boolean;
  /** Yields targets as objects are read; throws when the surface cannot be listed at all. */
  discover(context: DiscoveryContext): AsyncIterable<Target>;
}

/** Returns the kube client or throws, for discoverers that need a cluster. */
export function requireKube(context: DiscoveryContext): KubeClient {
  if (!context.kube) throw new Error("no cluster connection");
  return context.kube;
}

/**
 * Returns the list paths for a namespaced resource: one cluster-wide path, or one per namespace
 * when the scan is scoped. `prefix` is `/api/v1` or `/apis/GROUP/VERSION`.
 */
export function namespacedListPaths(
  context: DiscoveryContext,
  prefix: string,
  resource: string,
): string[] {
  if (context.namespaces.length === 0) return [`${prefix}/${resource}`];
  return context.namespaces.map((namespace) =>
    `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}`
  );
}

/** Decodes a base64 field of a Kubernetes object (Secret data, caBundle). */
export function decodeBase64Field(value: string): Uint8Array {
  const binary = atob(value.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}
