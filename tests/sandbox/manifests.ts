/**
 * Loads Kubernetes objects from YAML manifests: files or directories, multi-document, with
 * `kind: List` flattened.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import { join } from "node:path";
import type { KubeObject } from "./resources.ts";
import { compareKeys } from "./store.ts";

const MANIFEST_EXTENSIONS = /\.ya?ml$/i;

/** An invalid manifest. The message names the file and the document index. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/**
 * Reads every object from the given YAML files and directories (directories recursively, only
 * `*.yaml` and `*.yml`, in name order). Empty documents are skipped. Throws ManifestError when a
 * document is not valid YAML or lacks `kind`, `apiVersion` or `metadata.name`.
 */
export async function loadManifests(paths: string[]): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const path of paths) {
    for (const file of await manifestFiles(path)) {
      objects.push(...parseManifest(await Deno.readTextFile(file), file));
    }
  }
  return objects;
}

/** Lists the manifest files under a path: the path itself when it is a file. */
export async function manifestFiles(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return [path];

  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(path)) entries.push(entry);
  entries.sort((a, b) => compareKeys(a.name, b.name));

  const files: string[] = [];
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory) files.push(...await manifestFiles(child));
    else if (entry.isFile && MANIFEST_EXTENSIONS.test(entry.name)) files.push(child);
  }
  return files;
}

/**
 * Parses the objects of one multi-document YAML text, naming `source` in errors.
 * Throws ManifestError for invalid YAML or a document without `kind`, `apiVersion` or
 * `metadata.name`.
 */
export function parseManifest(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) {
      throw new ManifestError(
        `${source}: document ${index} is not valid YAML: ${document.errors[0].message}`,
      );
    }
    const value = document.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value === null || value === undefined) return;
    objects.push(...flattenList(value, `${source}: document ${index}`));
  });
  return objects;
}

function flattenList(value: unknown, where: string): KubeObject[] {
  if (isList(value)) {
    const items = value.items;
    if (!Array.isArray(items)) throw new ManifestError(`${where}: List has no items array`);
    return items.flatMap((item, index) => flattenList(item, `${where} item ${index}`));
  }
  return [validateObject(value, where)];
}

/** Matches `kind: List` and typed lists such as `SecretList`, as `kubectl get -o yaml` writes. */
function isList(value: unknown): value is { kind: string; items: unknown } {
  if (typeof value !== "object" || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  if (kind === "List") return true;
  return typeof kind === "string" && kind.endsWith("List") && "items" in value;
}

function validateObject(value: unknown, where: string): KubeObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ManifestError(`${where}: expected a Kubernetes object, found ${typeof value}`);
  }
  const object = value as Partial<KubeObject>;
  if (typeof object.kind !== "string" || object.kind === "") {
    throw new ManifestError(`${where}: missing kind`);
  }
  const name = (object.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== "string" || name === "") {
    throw new ManifestError(`${where}: ${object.kind} is missing metadata.name`);
  }
  if (typeof object.apiVersion !== "string" || object.apiVersion === "") {
    throw new ManifestError(`${where}: ${object.kind} ${name} is missing apiVersion`);
  }
  return object as KubeObject;
}
