/**
 * The sandbox's object store: Kubernetes objects keyed by resource type, namespace and name,
 * with the server-set metadata (uid, resourceVersion, creationTimestamp) filled in.
 *
 * @module
 */
import {
  alwaysServedTypes,
  type KubeObject,
  normalizeNamespace,
  type ResourceType,
  resourceTypeFor,
} from "./resources.ts";

/** A change to a stored object, as a watch reports it. */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resourceType: ResourceType;
  /** A copy of the object after the change (before it, for DELETED). */
  object: KubeObject;
}

/** Objects served by the sandbox. Tests may change them while the sandbox runs. */
export class ObjectStore {
  #objects = new Map<string, { type: ResourceType; object: KubeObject }>();
  #resourceVersion = 1;
  #listeners = new Set<(event: StoreEvent) => void>();

  /** Calls `listener` after every add, replace and delete; returns a function that stops it. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(type: StoreEvent["type"], resourceType: ResourceType, object: KubeObject): void {
    for (const listener of this.#listeners) {
      listener({ type, resourceType, object: structuredClone(object) });
    }
  }

  /** Creates a store holding `objects` (later objects replace earlier ones of the same name). */
  constructor(objects: Iterable<KubeObject> = []) {
    for (const object of objects) this.add(object);
  }

  /** The resourceVersion of the latest change, as lists report it. */
  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  /**
   * Adds or replaces an object and returns the stored copy, which carries uid, resourceVersion
   * and creationTimestamp (kept from the object when it has them).
   */
  add(object: KubeObject): KubeObject {
    const type = resourceTypeFor(object);
    const normalized = normalizeNamespace(structuredClone(object), type);
    this.#resourceVersion += 1;

    const metadata = normalized.metadata;
    metadata.uid ??= crypto.randomUUID();
    metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    metadata.resourceVersion = String(this.#resourceVersion);
    // The API server defaults a Secret without a type to Opaque, and field selectors see that.
    if (type.group === "" && type.kind === "Secret") normalized.type ??= "Opaque";

    const key = objectKey(type.group, type.kind, metadata.namespace, metadata.name);
    const existed = this.#objects.has(key);
    this.#objects.set(key, { type, object: normalized });
    this.#emit(existed ? "MODIFIED" : "ADDED", type, normalized);
    return structuredClone(normalized);
  }

  /**
   * Deletes an object by kind, namespace and name. `kind` is `Kind`, or `Kind.group` when
   * two groups share a kind. Returns whether an object was removed.
   */
  delete(kind: string, namespace: string | undefined, name: string): boolean {
    for (const [key, entry] of this.#objects) {
      if (!matchesKind(entry.type, kind)) continue;
      const metadata = entry.object.metadata;
      if (metadata.name !== name || (metadata.namespace ?? "") !== (namespace ?? "")) continue;
      this.#objects.delete(key);
      this.#resourceVersion += 1;
      this.#emit("DELETED", entry.type, entry.object);
      return true;
    }
    return false;
  }

  /** Lists copies of the objects of a kind (`Kind` or `Kind.group`), sorted by namespace/name. */
  list(kind: string): KubeObject[] {
    const found = [...this.#objects.values()].filter((entry) => matchesKind(entry.type, kind));
    return sortObjects(found.map((entry) => structuredClone(entry.object)));
  }

  /** Lists the objects of one resource type, optionally in one namespace, sorted. */
  listByType(type: ResourceType, namespace?: string): KubeObject[] {
    if (type.group === "" && type.plural === "namespaces") return this.namespaces();

    const found: KubeObject[] = [];
    for (const entry of this.#objects.values()) {
      if (!sameType(entry.type, type)) continue;
      if (namespace !== undefined && entry.object.metadata.namespace !== namespace) continue;
      found.push(structuredClone(entry.object));
    }
    return sortObjects(found);
  }

  /** Returns one object of a resource type, or undefined. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.listByType(type, namespace).find((object) => object.metadata.name === name);
  }

  /**
   * Lists Namespace objects: the stored ones plus a generated Active namespace for every
   * namespace that a stored object uses.
   */
  namespaces(): KubeObject[] {
    const byName = new Map<string, KubeObject>();
    for (const entry of this.#objects.values()) {
      if (entry.type.group === "" && entry.type.kind === "Namespace") {
        byName.set(entry.object.metadata.name, structuredClone(entry.object));
      }
    }
    for (const entry of this.#objects.values()) {
      const namespace = entry.object.metadata.namespace;
      if (namespace === undefined || byName.has(namespace)) continue;
      byName.set(namespace, this.#generatedNamespace(namespace));
    }
    return sortObjects([...byName.values()]);
  }

  /**
   * Returns every served resource type: the always-served ones plus one for each kind that a
   * stored object has.
   */
  types(): ResourceType[] {
    const types = alwaysServedTypes();
    for (const entry of this.#objects.values()) {
      if (!types.some((type) => sameType(type, entry.type))) types.push(entry.type);
    }
    return types;
  }

  #generatedNamespace(name: string): KubeObject {
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        uid: `00000000-0000-4000-8000-${hexDigest(name)}`,
        resourceVersion: "1",
        creationTimestamp: "2024-01-01T00:00:00Z",
        labels: { "kubernetes.io/metadata.name": name },
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
  }
}

/** Sorts objects by namespace, then name, the order lists and continue tokens rely on. */
export function sortObjects(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => compareKeys(listKey(a), listKey(b)));
}

/** Returns the `namespace/name` key lists are ordered by. */
export function listKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** Compares strings by UTF-16 code unit, so the order does not depend on the locale. */
export function compareKeys(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function objectKey(group: string, kind: string, namespace: string | undefined, name: string) {
  return `${group}/${kind}/${namespace ?? ""}/${name}`;
}

function sameType(a: ResourceType, b: ResourceType): boolean {
  return a.group === b.group && a.version === b.version && a.plural === b.plural;
}

function matchesKind(type: ResourceType, kind: string): boolean {
  const dot = kind.indexOf(".");
  if (dot < 0) return type.kind === kind;
  return type.kind === kind.slice(0, dot) && type.group === kind.slice(dot + 1);
}

function hexDigest(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(12, "0").slice(-12);
}
