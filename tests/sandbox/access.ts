/**
 * The sandbox token's permissions: which namespaces it may read and whether it may list across
 * namespaces, as RBAC would decide for a namespace-scoped reader.
 *
 * @module
 */
import type { ResourceType } from "./resources.ts";

/** Restrictions on the sandbox token, from SandboxOptions. */
export interface AccessRules {
  /** Namespaces the token may not read. */
  forbiddenNamespaces: ReadonlySet<string>;
  /** Whether listing namespaces is denied. */
  forbidNamespaceList: boolean;
  /** Resource plurals the token may not use anywhere, e.g. `validatingwebhookconfigurations`. */
  forbiddenResources?: ReadonlySet<string>;
}

/** One access check, in the shape of a SelfSubjectAccessReview's resourceAttributes. */
export interface AccessRequest {
  verb: string;
  /** Resource plural, e.g. `secrets`. */
  resource: string;
  /** Undefined or empty for a cluster-wide request. */
  namespace?: string;
  /** Whether the resource is namespaced. Unknown resources count as namespaced. */
  namespaced: boolean;
}

/**
 * Returns whether the token may perform the request. Denied: anything in a forbidden namespace,
 * a cluster-wide list or watch of a namespaced resource while any namespace is forbidden (RBAC
 * without a ClusterRoleBinding), listing namespaces when `forbidNamespaceList` is set, and any
 * request for a resource in `forbiddenResources`.
 */
export function isAllowed(rules: AccessRules, request: AccessRequest): boolean {
  const namespace = request.namespace || undefined;
  const listing = request.verb === "list" || request.verb === "watch";

  if (namespace !== undefined && rules.forbiddenNamespaces.has(namespace)) return false;
  if (rules.forbiddenResources?.has(request.resource)) return false;
  if (request.resource === "namespaces" && listing && rules.forbidNamespaceList) return false;
  if (
    namespace === undefined && request.namespaced && listing &&
    rules.forbiddenNamespaces.size > 0
  ) {
    return false;
  }
  return true;
}

/** Builds the access request for a read of a served resource type. */
export function readRequest(
  type: ResourceType,
  verb: "get" | "list",
  namespace: string | undefined,
): AccessRequest {
  return { verb, resource: type.plural, namespace, namespaced: type.namespaced };
}
