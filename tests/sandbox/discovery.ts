/**
 * Discovery documents of the sandbox API server: `/version`, `/api`, `/apis`, `/apis/<group>`
 * and the APIResourceList of each group version, computed from the served resource types.
 *
 * @module
 */
import { compareVersionPriority, joinApiVersion, type ResourceType } from "./resources.ts";
import { compareKeys } from "./store.ts";

/** Kubernetes release the sandbox reports in `/version`. */
export const SANDBOX_KUBERNETES_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0" };

interface GroupVersionEntry {
  groupVersion: string;
  version: string;
}

/** An APIGroup document: a group with its versions, preferred version first. */
export interface ApiGroup {
  name: string;
  versions: GroupVersionEntry[];
  preferredVersion: GroupVersionEntry;
}

/** Returns the `/version` document. */
export function versionInfo(): Record<string, string> {
  return {
    ...SANDBOX_KUBERNETES_VERSION,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2024-12-11T00:00:00Z",
    goVersion: "go1.23.4",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

/** Returns the `/api` APIVersions document. */
export function coreApiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** Groups the non-core resource types into APIGroup entries, sorted by group name. */
export function apiGroups(types: ResourceType[]): ApiGroup[] {
  const versionsByGroup = new Map<string, Set<string>>();
  for (const type of types) {
    if (type.group === "") continue;
    const versions = versionsByGroup.get(type.group) ?? new Set<string>();
    versions.add(type.version);
    versionsByGroup.set(type.group, versions);
  }

  return [...versionsByGroup.entries()]
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([name, versionSet]) => {
      const versions = [...versionSet].sort(compareVersionPriority).map((version) => ({
        groupVersion: joinApiVersion(name, version),
        version,
      }));
      return { name, versions, preferredVersion: versions[0] };
    });
}

/** Returns the `/apis` APIGroupList document. */
export function apiGroupList(types: ResourceType[]): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: apiGroups(types) };
}

/** Returns the `/apis/<group>` APIGroup document, or undefined when the group is not served. */
export function apiGroup(
  types: ResourceType[],
  group: string,
): Record<string, unknown> | undefined {
  const found = apiGroups(types).find((entry) => entry.name === group);
  if (!found) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...found };
}

/**
 * Returns the APIResourceList of one group version, or undefined when it has no resources.
 */
export function apiResourceList(
  types: ResourceType[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const resources = types
    .filter((type) => type.group === group && type.version === version)
    .sort((a, b) => compareKeys(a.plural, b.plural))
    .map((type) => ({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
    }));
  if (resources.length === 0) return undefined;

  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: joinApiVersion(group, version),
    resources,
  };
}
