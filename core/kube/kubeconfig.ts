/**
 * kubeconfig loading as kubectl does it: `--kubeconfig` (one file), else `KUBECONFIG` (several
 * files merged), else `~/.kube/config`, else the pod's service account. Every failure becomes a
 * {@linkcode KubeconfigError} whose one-line message names the file or context and the fix.
 *
 * @module
 */
import { delimiter } from "node:path";
import type { Cluster, Context, KubeConfig, User } from "@kubernetes/client-node";

/**
 * Root under which the in-cluster service-account files are read
 * (`<root>/var/run/secrets/kubernetes.io/serviceaccount/`); empty means `/`. Set for tests and for
 * pods that mount the token elsewhere.
 */
export const SERVICE_ACCOUNT_ROOT_ENV = "TRUSTWATCH_SERVICE_ACCOUNT_ROOT";

/** Maximum length of a library or plugin message quoted inside an error line, in characters. */
const MAX_QUOTED_MESSAGE_CHARS = 200;

/** An unusable kubeconfig. The message is one line that names the file or context and the fix. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

/** Origin of a loaded configuration, for messages. */
export interface KubeconfigSource {
  /** Files that were read, in precedence order. Empty for the in-cluster configuration. */
  files: string[];
  /** Words that name the source in messages, such as `kubeconfig /home/me/.kube/config`. */
  label: string;
}

/** The context a client uses, with its cluster and user, all checked to exist. */
export interface SelectedContext {
  context: Context;
  cluster: Cluster;
  /** Absent for a context without a user, which talks to the API server anonymously. */
  user?: User;
}

/**
 * Loads the kubeconfig into `config` as kubectl does and returns where it came from. Throws
 * {@linkcode KubeconfigError} for a missing or unreadable file, invalid YAML or an invalid entry.
 */
export async function loadKubeconfig(
  config: KubeConfig,
  kubeconfigFlag: string | undefined,
): Promise<KubeconfigSource> {
  const { KubeConfig } = await import("@kubernetes/client-node");

  if (kubeconfigFlag) {
    if (!fileExists(kubeconfigFlag)) {
      throw new KubeconfigError(
        `kubeconfig ${kubeconfigFlag}: file not found; pass an existing file to --kubeconfig`,
      );
    }
    loadFile(config, kubeconfigFlag);
    return { files: [kubeconfigFlag], label: `kubeconfig ${kubeconfigFlag}` };
  }

  const kubeconfigEnv = Deno.env.get("KUBECONFIG");
  if (kubeconfigEnv) {
    const listed = [...new Set(kubeconfigEnv.split(delimiter).filter((path) => path !== ""))];
    const files = listed.filter(fileExists);
    if (files.length === 0) {
      throw new KubeconfigError(
        `KUBECONFIG lists no existing file (${listed.join(", ")}); ` +
          "set it to kubeconfig files that exist or pass --kubeconfig",
      );
    }
    const parts = files.map((path) => {
      const part = new KubeConfig();
      // Like kubectl, an empty file in the list adds nothing instead of failing.
      if (!isEmptyFile(path)) loadFile(part, path);
      return part;
    });
    config.loadFromOptions(mergeKubeconfigs(parts));
    const label = files.length === 1
      ? `kubeconfig ${files[0]}`
      : `kubeconfig files ${files.join(", ")}`;
    return { files, label };
  }

  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const homeConfig = home ? `${home}/.kube/config` : undefined;
  if (homeConfig && fileExists(homeConfig)) {
    loadFile(config, homeConfig);
    return { files: [homeConfig], label: `kubeconfig ${homeConfig}` };
  }

  if (Deno.env.get("KUBERNETES_SERVICE_HOST")) {
    config.loadFromCluster(Deno.env.get(SERVICE_ACCOUNT_ROOT_ENV) ?? "");
    return { files: [], label: "in-cluster config" };
  }
  throw new KubeconfigError(
    "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod",
  );
}

/**
 * Merges loaded kubeconfig files into `loadFromOptions` input the way kubectl does: clusters,
 * users and contexts are merged by name with the first file defining a name winning, and the
 * first non-empty current-context wins.
 */
export function mergeKubeconfigs(
  parts: KubeConfig[],
): { clusters: Cluster[]; users: User[]; contexts: Context[]; currentContext: string } {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = "";

  for (const part of parts) {
    for (const cluster of part.getClusters()) addFirst(clusters, cluster);
    for (const user of part.getUsers()) addFirst(users, user);
    for (const context of part.getContexts()) addFirst(contexts, context);
    if (!currentContext) currentContext = part.getCurrentContext() ?? "";
  }
  return {
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  };
}

function addFirst<T extends { name: string }>(entries: Map<string, T>, entry: T): void {
  if (!entries.has(entry.name)) entries.set(entry.name, entry);
}

/**
 * Selects `--context` (or the current context) and checks that its cluster and user exist, that the
 * server is an https:// URL and that the files the entries name can be read. Throws
 * {@linkcode KubeconfigError}.
 */
export function selectContext(
  config: KubeConfig,
  source: KubeconfigSource,
  contextFlag: string | undefined,
): SelectedContext {
  const known = config.getContexts().map((context) => context.name).join(", ") || "none";
  if (contextFlag) {
    if (!config.getContextObject(contextFlag)) {
      throw new KubeconfigError(
        `context "${contextFlag}" not found in kubeconfig; known contexts: ${known}`,
      );
    }
    config.setCurrentContext(contextFlag);
  }

  const name = config.getCurrentContext();
  if (!name) {
    throw new KubeconfigError(
      config.getContexts().length === 0
        ? `${source.label}: no contexts are defined; add one with kubectl config set-context or pass another kubeconfig`
        : `${source.label}: no current-context is set; pass --context with one of: ${known}`,
    );
  }
  const context = config.getContextObject(name);
  if (!context) {
    throw new KubeconfigError(
      `${source.label}: current-context "${name}" is not defined; pass --context with one of: ${known}`,
    );
  }

  const cluster = config.getCluster(context.cluster);
  if (!cluster) {
    throw new KubeconfigError(
      `context "${name}": cluster "${context.cluster}" is not defined in the kubeconfig; ` +
        "add it or fix contexts[].context.cluster",
    );
  }
  const user = context.user ? config.getUser(context.user) : undefined;
  if (context.user && !user) {
    throw new KubeconfigError(
      `context "${name}": user "${context.user}" is not defined in the kubeconfig; ` +
        "add it or fix contexts[].context.user",
    );
  }

  const where = `context "${name}" (${cluster.server})`;
  checkServer(where, cluster.server);
  checkReadable(where, "certificate-authority", cluster.caFile);
  checkReadable(where, "client-certificate", user?.certFile);
  checkReadable(where, "client-key", user?.keyFile);
  checkReadable(where, "token", user?.authProvider?.config?.tokenFile);
  return { context, cluster, user: user ?? undefined };
}

/**
 * Returns the PEM of the CA a cluster entry trusts, or undefined when it names none. Throws
 * {@linkcode KubeconfigError} when the data is not base64 or the CA is not PEM.
 */
export async function readClusterCaPem(
  cluster: Cluster,
  contextName: string,
): Promise<string | undefined> {
  const where = `context "${contextName}" (${cluster.server})`;
  let caPem: string;
  if (cluster.caData) {
    try {
      caPem = atob(cluster.caData.replace(/\s+/g, ""));
    } catch {
      throw new KubeconfigError(
        `${where}: certificate-authority-data is not valid base64; fix clusters[].cluster.certificate-authority-data`,
      );
    }
  } else if (cluster.caFile) {
    caPem = await Deno.readTextFile(cluster.caFile);
  } else {
    return undefined;
  }
  if (!caPem.includes("-----BEGIN CERTIFICATE-----")) {
    const field = cluster.caData
      ? "certificate-authority-data"
      : `certificate-authority file ${cluster.caFile}`;
    throw new KubeconfigError(
      `${where}: ${field} contains no PEM certificate; expected a PEM CA bundle`,
    );
  }
  return caPem;
}

/** Returns the first line of an error message, cut to a length that fits in an error line. */
export function firstLineOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.trim().split("\n")[0].trim();
  return line.length > MAX_QUOTED_MESSAGE_CHARS
    ? `${line.slice(0, MAX_QUOTED_MESSAGE_CHARS)}…`
    : line;
}

function checkServer(where: string, server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(
      `${where}: the server is not a valid URL; fix clusters[].cluster.server`,
    );
  }
  if (url.protocol === "http:") {
    throw new KubeconfigError(
      `${where}: plain HTTP API servers are not supported because trustwatch checks the ` +
        "server's certificate; use the https:// address",
    );
  }
  if (url.protocol !== "https:") {
    throw new KubeconfigError(
      `${where}: the server URL must start with https://; fix clusters[].cluster.server`,
    );
  }
}

function checkReadable(where: string, field: string, path: string | undefined): void {
  if (!path) return;
  try {
    Deno.openSync(path, { read: true }).close();
  } catch (error) {
    throw new KubeconfigError(`${where}: ${field} file ${path} ${fileProblem(error)}`);
  }
}

/** Loads one file into `config`, making relative certificate paths absolute to the file. */
function loadFile(config: KubeConfig, path: string): void {
  try {
    config.loadFromFile(path);
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${path}: ${loadProblem(error, path)}`);
  }
}

function loadProblem(error: unknown, path: string): string {
  const details = error as Error & {
    code?: string;
    path?: string;
    reason?: string;
    mark?: { line: number };
  };

  if (details.name === "YAMLException") {
    // js-yaml's message (js-yaml 5, used by client-node 2.0.1) quotes the surrounding lines of the
    // file, which may contain tokens or keys, so only the line number and the reason are shown.
    if (/input is empty/.test(details.reason ?? "")) {
      return "file is empty; pass a kubeconfig with clusters, users and contexts";
    }
    const line = details.mark ? ` at line ${details.mark.line + 1}` : "";
    return `invalid YAML${line} (${details.reason ?? "parse error"}); fix the file`;
  }
  if (details.code && details.path && details.path !== path) {
    // NOTE: client-node 2.0.1 reads every user's token-file while loading, relative to the working
    // directory rather than to the file as kubectl does, so a missing one fails even when unused.
    return `token-file ${details.path} ${fileProblem(error)}`;
  }
  if (details.code) return fileProblem(error);
  if (/^(clusters|users|contexts)\[\d+\]/.test(details.message ?? "")) {
    return `${details.message}; fix or remove that entry`;
  }
  return `cannot be loaded (${firstLineOf(error)})`;
}

function fileProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (error instanceof Deno.errors.NotFound || code === "ENOENT") return "not found";
  if (error instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return "is not readable (permission denied)";
  }
  if (error instanceof Deno.errors.IsADirectory || code === "EISDIR") {
    return "is a directory, not a file";
  }
  return `cannot be read (${firstLineOf(error)})`;
}

/** Returns false only when nothing exists at `path`, so other problems are reported on load. */
function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

function isEmptyFile(path: string): boolean {
  try {
    return Deno.readTextFileSync(path).trim() === "";
  } catch {
    return false;
  }
}
