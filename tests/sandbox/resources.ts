/**
 * The resource types the sandbox API server serves: a table of well-known kinds with their plural
 * names and scope, and the rule that derives a resource type for any other kind.
 *
 * @module
 */

/** A Kubernetes object as the sandbox stores and serves it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** One resource type, as an APIResourceList entry describes it. */
export interface ResourceType {
  /** API group, `""` for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Lowercase plural used in paths, e.g. `secrets`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
}

/** Verbs the sandbox implements for stored objects. */
export const READ_VERBS: readonly string[] = ["get", "list"];

const DEFAULT_NAMESPACE = "default";

/**
 * Resource types served even when no object of the kind is loaded. Every kind a trustwatch
 * discoverer lists is here, so an empty cluster returns an empty list instead of a 404.
 */
const ALWAYS_SERVED: readonly ResourceType[] = [
  core("Namespace", "namespaces", false, ["ns"]),
  core("Secret", "secrets", true),
  core("ConfigMap", "configmaps", true, ["cm"]),
  core("Service", "services", true, ["svc"]),
  { ...core("Pod", "pods", true, ["po"]), verbs: ["create", "delete", "get", "list", "watch"] },
  core("Endpoints", "endpoints", true, ["ep"]),
  grouped("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", false),
  grouped("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", false),
  grouped("apiregistration.k8s.io", "v1", "APIService", false),
  grouped("networking.k8s.io", "v1", "Ingress", true, ["ing"]),
  grouped("apiextensions.k8s.io", "v1", "CustomResourceDefinition", false, ["crd", "crds"]),
  {
    ...grouped("authorization.k8s.io", "v1", "SelfSubjectAccessReview", false),
    verbs: ["create"],
  },
  grouped("apps", "v1", "Deployment", true, ["deploy"]),
  grouped("discovery.k8s.io", "v1", "EndpointSlice", true),
];

/**
 * Kinds whose plural or scope cannot be derived from the kind name and an object's namespace.
 * Keyed by `group/Kind`. Served only when an object of the kind is loaded.
 */
const KNOWN_KINDS: ReadonlyMap<string, { plural: string; namespaced: boolean }> = new Map([
  ["/ReplicationController", { plural: "replicationcontrollers", namespaced: true }],
  ["/ServiceAccount", { plural: "serviceaccounts", namespaced: true }],
  ["/Node", { plural: "nodes", namespaced: false }],
  ["/PersistentVolume", { plural: "persistentvolumes", namespaced: false }],
  ["apps/StatefulSet", { plural: "statefulsets", namespaced: true }],
  ["apps/DaemonSet", { plural: "daemonsets", namespaced: true }],
  ["apps/ReplicaSet", { plural: "replicasets", namespaced: true }],
  ["batch/Job", { plural: "jobs", namespaced: true }],
  ["batch/CronJob", { plural: "cronjobs", namespaced: true }],
  ["networking.k8s.io/IngressClass", { plural: "ingressclasses", namespaced: false }],
  ["gateway.networking.k8s.io/Gateway", { plural: "gateways", namespaced: true }],
  ["gateway.networking.k8s.io/GatewayClass", { plural: "gatewayclasses", namespaced: false }],
  ["gateway.networking.k8s.io/HTTPRoute", { plural: "httproutes", namespaced: true }],
  ["gateway.networking.k8s.io/ReferenceGrant", { plural: "referencegrants", namespaced: true }],
  ["cert-manager.io/Certificate", { plural: "certificates", namespaced: true }],
  ["cert-manager.io/CertificateRequest", { plural: "certificaterequests", namespaced: true }],
  ["cert-manager.io/Issuer", { plural: "issuers", namespaced: true }],
  ["cert-manager.io/ClusterIssuer", { plural: "clusterissuers", namespaced: false }],
  ["acme.cert-manager.io/Order", { plural: "orders", namespaced: true }],
  ["acme.cert-manager.io/Challenge", { plural: "challenges", namespaced: true }],
  ["trust.cert-manager.io/Bundle", { plural: "bundles", namespaced: false }],
  ["rbac.authorization.k8s.io/ClusterRole", { plural: "clusterroles", namespaced: false }],
  ["rbac.authorization.k8s.io/Role", { plural: "roles", namespaced: true }],
]);

function core(
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames?: string[],
): ResourceType {
  return grouped("", "v1", kind, namespaced, shortNames, plural);
}

function grouped(
  group: string,
  version: string,
  kind: string,
  namespaced: boolean,
  shortNames?: string[],
  plural = derivePlural(kind),
): ResourceType {
  const type: ResourceType = {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: [...READ_VERBS],
  };
  if (shortNames) type.shortNames = shortNames;
  return type;
}

/** Derives the lowercase plural English form of a kind, as CRD authors usually spell it. */
export function derivePlural(kind: string): string {
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return lower.slice(0, -1) + "ies";
  if (/(s|x|z|ch|sh)$/.test(lower)) return lower + "es";
  return lower + "s";
}

/** Splits an apiVersion into group and version, with `""` for the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Joins group and version into an apiVersion (`v1` for the core group). */
export function joinApiVersion(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** Returns the resource types served regardless of the loaded objects. */
export function alwaysServedTypes(): ResourceType[] {
  return ALWAYS_SERVED.map((type) => ({ ...type, verbs: [...type.verbs] }));
}

/**
 * Returns the resource type for an object's apiVersion and kind: the always-served entry, the
 * known-kinds entry, or a derived one (lowercase plural, namespaced when the object has a
 * namespace).
 */
export function resourceTypeFor(object: KubeObject): ResourceType {
  const { group, version } = splitApiVersion(object.apiVersion);
  const served = ALWAYS_SERVED.find((type) =>
    type.group === group && type.version === version && type.kind === object.kind
  );
  if (served) return { ...served, verbs: [...served.verbs] };

  const known = KNOWN_KINDS.get(`${group}/${object.kind}`);
  const namespaced = known?.namespaced ?? object.metadata.namespace !== undefined;
  return grouped(group, version, object.kind, namespaced, undefined, known?.plural);
}

/**
 * Returns a copy of the object with its namespace fixed to the type's scope: a namespaced object
 * without a namespace goes to `default` (as `kubectl apply` does), and a cluster-scoped object
 * loses any namespace it was given.
 */
export function normalizeNamespace(object: KubeObject, type: ResourceType): KubeObject {
  const metadata = { ...object.metadata };
  if (type.namespaced && !metadata.namespace) metadata.namespace = DEFAULT_NAMESPACE;
  if (!type.namespaced) delete metadata.namespace;
  return { ...object, metadata };
}

/**
 * Compares two Kubernetes version strings by API priority (v1 > v1beta2 > v1beta1 > v1alpha1),
 * returning a negative number when `a` should be preferred.
 */
export function compareVersionPriority(a: string, b: string): number {
  return versionRank(b) - versionRank(a);
}

const STABILITY_RANK: Record<string, number> = { alpha: 0, beta: 1, ga: 2 };

function versionRank(version: string): number {
  const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
  if (!match) return -1;
  const major = Number(match[1]);
  const stability = STABILITY_RANK[match[2] ?? "ga"];
  const minor = Number(match[3] ?? 0);
  return stability * 1_000_000 + major * 1_000 + minor;
}
