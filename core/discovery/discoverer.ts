/**
 * The discoverer interface: one implementation per trust surface, each listing objects and
 * yielding targets. Discoverers never dial endpoints and never decide severity.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "../config.ts";
import type { NamespaceAccess } from "../kube/access.ts";
import { isForbidden, type KubeClient, type KubeObject, type ListQuery } from "../kube/client.ts";
import type { SourceKind } from "../model.ts";
import type { Target } from "../target.ts";

/** Cluster access, scope, config and cancellation a discoverer may use. */
export interface DiscoveryContext {
  /** The cluster; absent when trustwatch runs without one (external targets only). */
  kube?: KubeClient;
  /** Namespaces to read namespaced objects from; empty means all. */
  namespaces: string[];
  config: Config;
  signal: AbortSignal;
  logger: Logger;
  /**
   * Access reviews and skipped namespaces of the scan. Without it, {@linkcode listNamespaced}
   * lists without reviews and a 403 fails the discoverer.
   */
  access?: NamespaceAccess;
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
 * Lists a namespaced resource page by page in the scan's scope, as the credentials allow:
 * cluster-wide when no namespace is given, falling back to one list per namespace when that is
 * forbidden; per namespace after a SelfSubjectAccessReview otherwise. Namespaces the credentials
 * may not list are skipped and recorded in `context.access` (one log line and one scan error per
 * namespace), never thrown. `prefix` is `/api/v1` or `/apis/GROUP/VERSION`.
 *
 * @example
 * ```ts
 * for await (const page of listNamespaced(context, "k8s.tlsSecret", "/api/v1", "secrets")) {
 *   for (const secret of page) console.log(secret.metadata.name);
 * }
 * ```
 */
export async function* listNamespaced(
  context: DiscoveryContext,
  source: SourceKind,
  prefix: string,
  resource: string,
  query: ListQuery = {},
): AsyncGenerator<KubeObject[]> {
  const kube = requireKube(context);
  const access = context.access;
  const ref = { group: prefix.startsWith("/apis/") ? prefix.split("/")[2] : "", resource };

  let namespaces = context.namespaces;
  if (namespaces.length === 0) {
    let pages = 0;
    try {
      for await (const page of kube.listPages(`${prefix}/${resource}`, query, context.signal)) {
        pages++;
        yield page;
      }
      return;
    } catch (error) {
      if (!access || !isForbidden(error) || pages > 0) throw error;
    }
    namespaces = await access.fallbackNamespaces(ref);
  }

  const allowed = access ? await access.allowedNamespaces("list", ref, namespaces) : undefined;
  for (const namespace of namespaces) {
    if (allowed && !allowed.has(namespace)) {
      access!.skip(namespace, ref, source);
      continue;
    }
    const path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
    try {
      for await (const page of kube.listPages(path, query, context.signal)) yield page;
    } catch (error) {
      if (!access || !isForbidden(error)) throw error;
      access.skip(namespace, ref, source);
    }
  }
}

/** Decodes a base64 field of a Kubernetes object (Secret data, caBundle). */
export function decodeBase64Field(value: string): Uint8Array {
  const binary = atob(value.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

/**
 * Returns whether a control-plane namespace (Linkerd, Istio) is outside the scan's `--namespace`
 * scope, and logs the skip at debug level when it is.
 */
export function isOutsideScope(
  context: DiscoveryContext,
  namespace: string,
  owner: string,
): boolean {
  if (context.namespaces.length === 0 || context.namespaces.includes(namespace)) return false;
  context.logger.debug("{owner} namespace {namespace} is outside --namespace; skipped", {
    owner,
    namespace,
  });
  return true;
}
