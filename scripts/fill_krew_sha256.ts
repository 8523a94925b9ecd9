/**
 * Fills the `sha256` of every platform in krew-manifest.yaml from the built release archives,
 * and optionally sets the release version in `spec.version` and every `uri`. It writes nothing
 * when an archive is missing or a placeholder would remain, so no placeholder reaches a release.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env scripts/fill_krew_sha256.ts --version v0.2.0 dist/
 * deno run --allow-read --allow-env scripts/fill_krew_sha256.ts --check   # fails while unfilled
 * ```
 *
 * Each archive is found in the given directory by the file name at the end of its platform's
 * `uri`, e.g. `kubectl-trustwatch_v0.2.0_linux_amd64.tar.gz`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { isMap, isSeq, parseDocument, type YAMLMap } from "yaml";

/** A filled `sha256`: 64 lower-case hex digits. */
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** A krew version: `v` and three numbers, with an optional pre-release suffix. */
const VERSION_PATTERN = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Read size while hashing, so large archives are never held in memory whole. */
const HASH_CHUNK_BYTES = 1 << 20;

/** A manifest problem that stops the script; the message names the platform and the fix. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** One platform entry of the manifest, with its label and uri. */
interface PlatformEntry {
  label: string;
  node: YAMLMap;
  uri: string;
}

/** Returns the SHA-256 of a file as lower-case hex, read in chunks. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(HASH_CHUNK_BYTES);
  while (true) {
    const read = await file.read(buffer);
    if (read === null) break;
    hash.update(buffer.subarray(0, read));
  }
  return hash.digest("hex");
}

/**
 * Returns the manifest text with each platform's `sha256` set from the archive its `uri` names
 * in `archiveDirectory`, and with `version` (when given) set in `spec.version` and the uris.
 * Throws {@linkcode ManifestError} when an archive is missing or a value stays unfilled.
 */
export async function fillManifest(
  text: string,
  archiveDirectory: string,
  version?: string,
): Promise<string> {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ManifestError(`manifest is not valid YAML: ${document.errors[0].message}`);
  }
  const previousVersion = String(document.getIn(["spec", "version"]) ?? "");
  if (version !== undefined) {
    if (!VERSION_PATTERN.test(version)) {
      throw new ManifestError(`invalid --version "${version}": expected v<major>.<minor>.<patch>`);
    }
    document.setIn(["spec", "version"], version);
  }

  for (const platform of platformsOf(document)) {
    let uri = platform.uri;
    if (version !== undefined && previousVersion && previousVersion !== version) {
      uri = uri.replaceAll(previousVersion, version);
      platform.node.set("uri", uri);
    }
    const archiveName = decodeURIComponent(new URL(uri).pathname.split("/").pop() ?? "");
    const archivePath = `${archiveDirectory.replace(/\/+$/, "")}/${archiveName}`;
    let digest: string;
    try {
      digest = await sha256OfFile(archivePath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new ManifestError(
        `platform ${platform.label}: archive ${archiveName} not found in ${archiveDirectory}; ` +
          "build it first or pass the directory that holds the release archives",
      );
    }
    platform.node.set("sha256", digest);
  }

  const filled = document.toString();
  const problems = manifestProblems(filled);
  if (problems.length > 0) throw new ManifestError(problems.join("\n"));
  return filled;
}

/**
 * Returns what keeps a manifest from being released: unfilled or malformed `sha256` values, a
 * missing version, or uris that do not name the version. Empty when it is ready.
 */
export function manifestProblems(text: string): string[] {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    return [`manifest is not valid YAML: ${document.errors[0].message}`];
  }
  const problems: string[] = [];
  const version = String(document.getIn(["spec", "version"]) ?? "");
  if (!VERSION_PATTERN.test(version)) {
    problems.push(`spec.version "${version}" is not of the form v<major>.<minor>.<patch>`);
  }
  let platforms: PlatformEntry[];
  try {
    platforms = platformsOf(document);
  } catch (error) {
    return [...problems, (error as Error).message];
  }
  for (const platform of platforms) {
    const sha256 = String(platform.node.get("sha256") ?? "");
    if (!SHA256_PATTERN.test(sha256)) {
      problems.push(
        `platform ${platform.label}: sha256 "${sha256}" is not 64 hex digits; run this script on the built archives`,
      );
    }
    if (!platform.uri.includes(`/${version}/`)) {
      problems.push(`platform ${platform.label}: uri ${platform.uri} does not name ${version}`);
    }
  }
  return problems;
}

function platformsOf(document: ReturnType<typeof parseDocument>): PlatformEntry[] {
  const platforms = document.getIn(["spec", "platforms"]);
  if (!isSeq(platforms) || platforms.items.length === 0) {
    throw new ManifestError("spec.platforms is missing or empty");
  }
  return platforms.items.map((item, index) => {
    if (!isMap(item)) throw new ManifestError(`spec.platforms[${index}] is not a mapping`);
    const os = item.getIn(["selector", "matchLabels", "os"]);
    const arch = item.getIn(["selector", "matchLabels", "arch"]);
    const label = `${os ?? "?"}/${arch ?? "?"}`;
    const uri = item.get("uri");
    if (typeof uri !== "string" || !URL.canParse(uri)) {
      throw new ManifestError(`platform ${label}: uri is missing or not a URL`);
    }
    return { label, node: item as YAMLMap, uri };
  });
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      manifest: { type: "string", default: "krew-manifest.yaml" },
      version: { type: "string" },
      output: { type: "string" },
      check: { type: "boolean", default: false },
    },
  });
  const text = await Deno.readTextFile(values.manifest);
  if (values.check) {
    const problems = manifestProblems(text);
    for (const problem of problems) console.error(`${values.manifest}: ${problem}`);
    return problems.length > 0 ? 1 : 0;
  }
  if (positionals.length !== 1) {
    console.error(
      "usage: fill_krew_sha256.ts [--manifest FILE] [--version vX.Y.Z] [--output FILE] ARCHIVE_DIR\n" +
        "       fill_krew_sha256.ts --check [--manifest FILE]",
    );
    return 2;
  }
  try {
    const filled = await fillManifest(text, positionals[0], values.version);
    await Deno.writeTextFile(values.output ?? values.manifest, filled);
    console.error(`${values.output ?? values.manifest}: sha256 filled for every platform`);
    return 0;
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    console.error(`${values.manifest} left unchanged: ${error.message}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
