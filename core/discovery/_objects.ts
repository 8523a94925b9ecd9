/**
 * Reads shared by the Ingress, mesh, Gateway, cert-manager and annotation discoverers: GETs that
 * turn a forbidden or failed read of one object into a problem of that object, lists that treat an
 * absent resource type as empty, conditions, and Secret and ConfigMap keys.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  isForbidden,
  isNotServed,
  KubeApiError,
  type KubeClient,
  type KubeObject,
} from "../kube/client.ts";
import type { SourceKind } from "../model.ts";
import type { ObjectRef, ProblemTarget, TargetContext } from "../target.ts";
import { decodeBase64Field, type DiscoveryContext, listNamespaced } from "./discoverer.ts";

const logger = getLogger(["trustwatch", "discovery"]);

/**
 * Why a read of one object, or of one namespace's list that a target depends on, failed. It
 * becomes a ProblemTarget of the object that needed it, so the rest of the scan goes on.
 */
export class ReadFailure {
  constructor(
    /** `READ_FORBIDDEN` for a 403, `READ_FAILED` for any other API error. */
    readonly findingType: "READ_FORBIDDEN" | "READ_FAILED",
    /** Names the object, the verb and the fix, e.g. `get secret certs/api-tls is forbidden …`. */
    readonly message: string,
    /**
     * The object whose read failed, for the remediation: kubectl's singular resource name, and an
     * empty name when the namespace's list failed.
     */
    readonly ref: ObjectRef,
  ) {}
}

/** Result of reading one object: the object, `"not-found"`, or the reason it failed. */
export type ObjectRead = KubeObject | "not-found" | ReadFailure;

/**
 * GETs a namespaced object. Returns `"not-found"` when it, or its resource type, does not exist,
 * and a {@linkcode ReadFailure} when the API server rejects the GET. Throws only when the scan
 * was cancelled or the API server could not be reached, because those fail every read alike.
 *
 * @example
 * ```ts
 * const read = await readObject(kube, "/api/v1", "secrets", "certs", "api-tls", signal);
 * if (read instanceof ReadFailure) console.log(read.findingType, read.message);
 * ```
 */
export async function readObject(
  kube: KubeClient,
  prefix: string,
  resource: string,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<ObjectRead> {
  const path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}/${
    encodeURIComponent(name)
  }`;
  try {
    return await kube.get<KubeObject>(path, signal);
  } catch (error) {
    if (isNotServed(error)) return "not-found";
    return readFailureOf(error, { verb: "get", prefix, resource, namespace, name }, signal);
  }
}

/** The read that failed, as RBAC names it. */
export interface ReadRequest {
  verb: "get" | "list";
  /** `/api/v1` or `/apis/GROUP/VERSION`. */
  prefix: string;
  /** Plural resource name, e.g. `secrets`. */
  resource: string;
  namespace: string;
  /** Object name; absent for a list. */
  name?: string;
}

/**
 * Describes an API error of one read as a {@linkcode ReadFailure}; re-throws the error when the
 * scan was cancelled or it is not an API error (the API server could not be reached).
 */
export function readFailureOf(
  error: unknown,
  request: ReadRequest,
  signal: AbortSignal,
): ReadFailure {
  if (signal.aborted || !(error instanceof KubeApiError)) throw error;

  const group = request.prefix.startsWith("/apis/") ? request.prefix.split("/")[2] : "";
  const rbacResource = group === "" ? request.resource : `${request.resource}.${group}`;
  const ref: ObjectRef = {
    resource: singular(request.resource),
    namespace: request.namespace,
    name: request.name ?? "",
  };
  const object = request.name === undefined
    ? `${rbacResource} in namespace ${request.namespace}`
    : `${singular(request.resource)} ${request.namespace}/${request.name}`;
  // Debug only: every failed read becomes a finding, and one missing Role can fail thousands.
  logger.debug("{verb} {object} failed: {message}", {
    verb: request.verb,
    object,
    message: error.message,
  });
  if (isForbidden(error)) {
    return new ReadFailure(
      "READ_FORBIDDEN",
      `${request.verb} ${object} is forbidden for the credentials in use; grant ` +
        `${request.verb} on ${rbacResource} in namespace ${request.namespace} ` +
        `(Role and RoleBinding) and check with ` +
        `kubectl auth can-i ${request.verb} ${rbacResource} -n ${request.namespace}`,
      ref,
    );
  }
  return new ReadFailure(
    "READ_FAILED",
    `${request.verb} ${object} failed (${error.message}); scan again once the API server ` +
      "answers",
    ref,
  );
}

/** Returns the kubectl singular of a plural resource name (`secrets` to `secret`). */
function singular(resource: string): string {
  return resource.endsWith("s") ? resource.slice(0, -1) : resource;
}

/**
 * Returns the ProblemTarget for a read that failed, with `where` (the object that needed the
 * read) leading the message and `ref` pointing at the object that could not be read.
 */
export function readFailureTarget(
  base: TargetContext,
  failure: ReadFailure,
  where: string,
  target: string,
): ProblemTarget {
  return {
    ...base,
    kind: "problem",
    findingType: failure.findingType,
    target,
    message: `${where}: ${failure.message}`,
    ref: failure.ref,
  };
}

/**
 * Yields the objects of a namespaced resource page by page, in the scanned namespaces the
 * credentials may read. Yields nothing when the cluster does not serve the resource (its CRD is
 * not installed).
 */
export async function* listIfServed(
  context: DiscoveryContext,
  source: SourceKind,
  prefix: string,
  resource: string,
): AsyncGenerator<KubeObject> {
  try {
    for await (const page of listNamespaced(context, source, prefix, resource)) yield* page;
  } catch (error) {
    if (!isNotServed(error)) throw error;
    context.logger.debug("{resource} not served by this cluster; skipped", { resource });
  }
}

/** A `status.conditions[]` entry. */
export interface Condition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** Returns the condition of a type from an object's `status.conditions`, when present. */
export function conditionOf(object: KubeObject, type: string): Condition | undefined {
  const conditions: unknown = object.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((condition) => condition?.type === type);
}

/** Parses an RFC 3339 time field; returns undefined when absent or unparseable. */
export function parseTime(value: unknown): Date | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** Returns a Secret key decoded from base64, undefined when absent or empty, or "invalid". */
export function secretKey(secret: KubeObject, key: string): Uint8Array | undefined | "invalid" {
  const value: unknown = secret.data?.[key];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  try {
    return decodeBase64Field(value);
  } catch {
    return "invalid";
  }
}

/** Returns a ConfigMap key as bytes, or undefined when absent or empty. */
export function configMapKey(configMap: KubeObject, key: string): Uint8Array | undefined {
  const value: unknown = configMap.data?.[key];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  return new TextEncoder().encode(value);
}

/** Secret GETs of one scan, each fetched once however many objects name the Secret. */
export class SecretReader {
  #kube: KubeClient;
  #signal: AbortSignal;
  #entries = new Map<string, Promise<ObjectRead>>();

  constructor(kube: KubeClient, signal: AbortSignal) {
    this.#kube = kube;
    this.#signal = signal;
  }

  /** Returns the Secret, "not-found", or why it could not be read. */
  get(namespace: string, name: string): Promise<ObjectRead> {
    const key = `${namespace}/${name}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = readObject(this.#kube, "/api/v1", "secrets", namespace, name, this.#signal);
      this.#entries.set(key, entry);
    }
    return entry;
  }
}
