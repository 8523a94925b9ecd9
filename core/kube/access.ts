/**
 * Namespace access for one scan: SelfSubjectAccessReviews before per-namespace lists, the
 * fallback from a forbidden cluster-wide list to the namespaces the credentials may read, and
 * the record of skipped namespaces, logged once each and reported as scan errors.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { ScanError, SourceKind } from "../model.ts";
import { isForbidden, isNotServed, type KubeClient } from "./client.ts";

/** Path of SelfSubjectAccessReview, which every authenticated user may create. */
export const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/** SelfSubjectAccessReviews in flight at once when checking many namespaces. */
export const SSAR_CONCURRENCY = 8;

/** A resource type as RBAC names it: API group (`""` for core) and plural. */
export interface ResourceRef {
  group: string;
  resource: string;
}

/** Options of a {@linkcode NamespaceAccess}. */
export interface NamespaceAccessOptions {
  /** Namespaces the user asked for (`--namespace`); empty means all. */
  namespaces: string[];
  logger: Logger;
  signal: AbortSignal;
}

interface SkippedNamespace {
  resources: Set<string>;
  source: SourceKind;
}

/** Returns `resource` for the core group and `resource.group` otherwise, as kubectl names it. */
export function resourceLabel(ref: ResourceRef): string {
  return ref.group === "" ? ref.resource : `${ref.resource}.${ref.group}`;
}

/**
 * Access decisions and skipped namespaces of one scan. Reviews are cached per verb, resource
 * and namespace, so each is asked once however many discoverers list the resource.
 */
export class NamespaceAccess {
  readonly #kube: KubeClient;
  readonly #options: NamespaceAccessOptions;
  readonly #reviews = new Map<string, Promise<boolean>>();
  readonly #skipped = new Map<string, SkippedNamespace>();
  #allNamespaces?: Promise<string[]>;
  #reviewsUnavailable = false;

  constructor(kube: KubeClient, options: NamespaceAccessOptions) {
    this.#kube = kube;
    this.#options = options;
  }

  /** Whether the scan was scoped with `--namespace`. */
  get scoped(): boolean {
    return this.#options.namespaces.length > 0;
  }

  /**
   * Returns whether the credentials may `verb` the resource in `namespace` (cluster-wide when
   * undefined), from a SelfSubjectAccessReview. When reviews cannot be created (403 or not
   * served) it returns true, and the list's own 403 decides.
   */
  allowed(verb: string, ref: ResourceRef, namespace?: string): Promise<boolean> {
    const key = `${verb} ${resourceLabel(ref)} ${namespace ?? ""}`;
    let review = this.#reviews.get(key);
    if (!review) {
      review = this.#review(verb, ref, namespace);
      this.#reviews.set(key, review);
    }
    return review;
  }

  /** Returns the namespaces among `namespaces` where `verb` is allowed, checked concurrently. */
  async allowedNamespaces(
    verb: string,
    ref: ResourceRef,
    namespaces: string[],
  ): Promise<Set<string>> {
    const allowed = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < namespaces.length) {
        const namespace = namespaces[next++];
        if (await this.allowed(verb, ref, namespace)) allowed.add(namespace);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(SSAR_CONCURRENCY, namespaces.length) }, worker),
    );
    return allowed;
  }

  /**
   * Returns the namespaces to list one by one after a cluster-wide list of `ref` was forbidden:
   * the `--namespace` list when given, else every namespace of the cluster. Throws an Error
   * with the fix when namespaces cannot be listed either.
   */
  async fallbackNamespaces(ref: ResourceRef): Promise<string[]> {
    if (this.scoped) return this.#options.namespaces;
    this.#allNamespaces ??= this.#listNamespaces();
    try {
      const namespaces = await this.#allNamespaces;
      this.#options.logger.info(
        "listing {resource} cluster-wide is forbidden; listing it in each of {count} namespaces",
        { resource: resourceLabel(ref), count: namespaces.length },
      );
      return namespaces;
    } catch (error) {
      if (!isForbidden(error)) throw error;
      throw new Error(
        `cannot list ${resourceLabel(ref)} cluster-wide and cannot list namespaces (forbidden); ` +
          "pass --namespace for each namespace to scan, or grant list on namespaces",
      );
    }
  }

  /**
   * Records that `resource` was not listed in `namespace`. The first record of a namespace logs
   * one warning; later ones only add the resource to its scan error.
   */
  skip(namespace: string, ref: ResourceRef, source: SourceKind): void {
    const label = resourceLabel(ref);
    const entry = this.#skipped.get(namespace);
    if (entry) {
      entry.resources.add(label);
      return;
    }
    this.#skipped.set(namespace, { resources: new Set([label]), source });
    this.#options.logger.warn(
      "namespace {namespace} skipped: the credentials may not list {resource} there",
      { namespace, resource: label },
    );
  }

  /** Returns one scan error per skipped namespace, naming what was not listed and the fix. */
  scanErrors(): ScanError[] {
    const fix = this.scoped
      ? "grant list access there (Role and RoleBinding) or leave it out of --namespace"
      : "grant list access there (Role and RoleBinding) or scope the scan with --namespace";
    return [...this.#skipped.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([namespace, entry]) => ({
        source: entry.source,
        message: `namespace ${namespace} skipped: the credentials may not list ${
          [...entry.resources].sort().join(", ")
        } there; ${fix}`,
      }));
  }

  async #review(verb: string, ref: ResourceRef, namespace?: string): Promise<boolean> {
    if (this.#reviewsUnavailable) return true;
    const body = {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb,
          group: ref.group,
          resource: ref.resource,
          ...(namespace === undefined ? {} : { namespace }),
        },
      },
    };
    try {
      const review = await this.#kube.post<{ status?: { allowed?: boolean } }>(
        SSAR_PATH,
        body,
        this.#options.signal,
      );
      return review.status?.allowed === true;
    } catch (error) {
      if (!isForbidden(error) && !isNotServed(error)) throw error;
      this.#reviewsUnavailable = true;
      this.#options.logger.debug(
        "SelfSubjectAccessReview unavailable ({message}); relying on list responses",
        { message: (error as Error).message },
      );
      return true;
    }
  }

  async #listNamespaces(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.#kube.listPages("/api/v1/namespaces", {}, this.#options.signal)) {
      for (const namespace of page) names.push(namespace.metadata.name);
    }
    return names;
  }
}
