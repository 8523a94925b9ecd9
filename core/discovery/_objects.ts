/**
 * Reads shared by the mesh, Gateway, cert-manager and annotation discoverers: GETs and lists that
 * treat an absent object or resource type as empty, conditions, and Secret and ConfigMap keys.
 *
 * @module
 */
import { isNotServed, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { SourceKind } from "../model.ts";
import { decodeBase64Field, type DiscoveryContext, listNamespaced } from "./discoverer.ts";

/** GETs a namespaced object; returns undefined when it, or its resource type, does not exist. */
export async function getObjectIfExists(
  kube: KubeClient,
  prefix: string,
  resource: string,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<KubeObject | undefined> {
  const path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}/${
    encodeURIComponent(name)
  }`;
  try {
    return await kube.get<KubeObject>(path, signal);
  } catch (error) {
    if (isNotServed(error)) return undefined;
    throw error;
  }
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
