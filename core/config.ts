/**
 * The trustwatch config file: loading and strict validation.
 *
 * An unknown key, a bad duration or a bad URL is an error that names the key path and line, so a
 * typo never silently turns a check off.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node as YamlNode, Pair, YAMLMap } from "yaml";
import { parseDuration, timerDurationProblem } from "./duration.ts";
import { SEVERITIES, type Severity } from "./model.ts";

/** Default warning window: 30 days. */
export const DEFAULT_WARN_BEFORE = "720h";
/** Default critical window: 14 days. */
export const DEFAULT_CRIT_BEFORE = "336h";
/** Default interval between scans of `serve`. */
export const DEFAULT_REFRESH_EVERY = "2m";
/** Shortest interval between scans that `serve` accepts. */
export const MIN_REFRESH_EVERY_MS = 30_000;
/** Namespace of the Linkerd control plane: its trust roots and identity issuer. */
export const DEFAULT_LINKERD_NAMESPACE = "linkerd";
/** Namespace of the Istio control plane: `cacerts`, `istio-ca-secret`, `istio-ca-root-cert`. */
export const DEFAULT_ISTIO_NAMESPACE = "istio-system";

/** A Kubernetes namespace name: a DNS-1123 label of at most 63 characters. */
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Throws an Error naming `what` when `name` is not a valid namespace name; returns it otherwise.
 * Used for config keys and flags alike.
 */
export function validateNamespaceName(name: string, what: string): string {
  if (!NAMESPACE_PATTERN.test(name)) {
    throw new Error(
      `${what}: "${name}" is not a valid namespace name; use at most 63 lowercase letters, ` +
        "digits and '-', starting and ending with a letter or digit",
    );
  }
  return name;
}

/** An endpoint outside the cluster to probe. */
export interface ExternalTarget {
  /** `https://host[:port]` or `tcp://host:port[?sni=name]`. */
  url: string;
  sni?: string;
  /** Severity for a problem on this endpoint instead of the computed one. */
  severity?: Severity;
}

/** Another trustwatch instance whose snapshot is merged in. */
export interface RemoteInstance {
  name: string;
  url: string;
}

/** A notification webhook. */
export interface NotificationWebhook {
  url: string;
  type: "slack" | "generic";
}

/** Where and when notifications go. */
export interface NotificationConfig {
  enabled: boolean;
  webhooks: NotificationWebhook[];
  severities: Severity[];
  cooldown: string;
}

/** The validated config file. Durations stay as written; {@linkcode parseDuration} reads them. */
export interface Config {
  listenAddr: string;
  metricsPath: string;
  refreshEvery: string;
  warnBefore: string;
  critBefore: string;
  namespaces: string[];
  historyDB?: string;
  spiffeSocket?: string;
  otelEndpoint?: string;
  clusterName?: string;
  /** @default {DEFAULT_LINKERD_NAMESPACE} */
  linkerdNamespace: string;
  /** @default {DEFAULT_ISTIO_NAMESPACE} */
  istioNamespace: string;
  external: ExternalTarget[];
  remotes: RemoteInstance[];
  notifications?: NotificationConfig;
}

/** A config error with the key path and, when known, the line. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${source}${line ? `:${line}` : ""}: ${path}: ${detail}`);
    this.name = "ConfigError";
  }
}

/** Returns the config that applies when no file is given. */
export function defaultConfig(): Config {
  return {
    listenAddr: ":8080",
    metricsPath: "/metrics",
    refreshEvery: DEFAULT_REFRESH_EVERY,
    warnBefore: DEFAULT_WARN_BEFORE,
    critBefore: DEFAULT_CRIT_BEFORE,
    namespaces: [],
    linkerdNamespace: DEFAULT_LINKERD_NAMESPACE,
    istioNamespace: DEFAULT_ISTIO_NAMESPACE,
    external: [],
    remotes: [],
  };
}

/** Reads and validates a config file; throws {@linkcode ConfigError} or the read error. */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found; check the path"
      : error instanceof Deno.errors.IsADirectory
      ? "is a directory; pass the config file inside it"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied; make the file readable"
      : `cannot be read (${(error as Error).name})`;
    throw new ConfigError(path, "(file)", undefined, reason);
  }
  return parseConfig(text, path);
}

/** Returns the parser's first line of explanation, without its position suffix and code frame. */
function describeYamlError(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** Validates config text; `source` names the file in errors. */
export function parseConfig(text: string, source = "config"): Config {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first.linePos?.[0].line;
    throw new ConfigError(
      source,
      "(document)",
      line,
      first.code === "MULTIPLE_DOCS"
        ? "contains several YAML documents (---); keep the whole config in one document"
        : `invalid YAML: ${describeYamlError(first.message)}`,
    );
  }
  const reader = new ConfigReader(source, lineCounter);
  const config = defaultConfig();
  if (document.contents === null) return config;
  const root = reader.map(document.contents, "");

  for (const pair of root.items) {
    const key = reader.key(pair, "");
    const value = pair.value as YamlNode | null;
    switch (key) {
      case "listenAddr":
        config.listenAddr = reader.listenAddress(value, key);
        break;
      case "metricsPath":
        config.metricsPath = reader.urlPath(value, key);
        break;
      case "refreshEvery":
        config.refreshEvery = reader.timerDuration(value, key);
        break;
      case "warnBefore":
        config.warnBefore = reader.duration(value, key);
        break;
      case "critBefore":
        config.critBefore = reader.duration(value, key);
        break;
      case "namespaces":
        config.namespaces = reader.stringList(value, key);
        break;
      case "historyDB":
      case "spiffeSocket":
      case "clusterName":
        config[key] = reader.string(value, key);
        break;
      case "linkerdNamespace":
      case "istioNamespace":
        config[key] = reader.namespaceName(value, key);
        break;
      case "otelEndpoint":
        config.otelEndpoint = reader.url(value, key, ["http:", "https:"]);
        break;
      case "external":
        config.external = reader.seq(value, key).map((item, index) =>
          readExternal(reader, item, `${key}[${index}]`)
        );
        break;
      case "remotes":
        config.remotes = reader.seq(value, key).map((item, index) =>
          readRemote(reader, item, `${key}[${index}]`)
        );
        break;
      case "notifications":
        config.notifications = readNotifications(reader, value, key);
        break;
      default:
        throw reader.error(pair.key as YamlNode, key, "unknown key; check the spelling");
    }
  }

  if (parseDuration(config.critBefore) >= parseDuration(config.warnBefore)) {
    throw reader.error(
      findPair(root, "critBefore")?.value as YamlNode ?? null,
      "critBefore",
      `${config.critBefore} must be shorter than warnBefore (${config.warnBefore})`,
    );
  }
  if (parseDuration(config.refreshEvery) < MIN_REFRESH_EVERY_MS) {
    throw reader.error(
      findPair(root, "refreshEvery")?.value as YamlNode ?? null,
      "refreshEvery",
      `${config.refreshEvery} is too short; use at least 30s`,
    );
  }
  return config;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
}

function readExternal(reader: ConfigReader, node: YamlNode | null, path: string): ExternalTarget {
  const map = reader.map(node, path);
  let target: Partial<ExternalTarget> = {};
  for (const pair of map.items) {
    const key = reader.key(pair, path);
    const value = pair.value as YamlNode | null;
    const keyPath = `${path}.${key}`;
    if (key === "url") target.url = reader.externalUrl(value, keyPath);
    else if (key === "sni") target.sni = reader.string(value, keyPath);
    else if (key === "severity") target.severity = reader.severity(value, keyPath);
    else {throw reader.error(
        pair.key as YamlNode,
        keyPath,
        "unknown key; expected url, sni or severity",
      );}
  }
  if (!target.url) {
    throw reader.error(node, `${path}.url`, "missing; e.g. url: https://status.example.com:443");
  }
  target = { url: target.url, ...target };
  return target as ExternalTarget;
}

/**
 * Returns why an external `https://` or `tcp://` URL has parts trustwatch would ignore, or
 * undefined. trustwatch only does a TLS handshake with the host, so an `https://` URL takes no
 * path, query or fragment, and a `tcp://` URL takes only `?sni=name`.
 */
export function externalUrlProblem(url: URL): string | undefined {
  const endpoint = `${url.protocol}//${url.host}`;
  if (url.protocol === "https:") {
    const extra = `${url.pathname === "/" ? "" : url.pathname}${url.search}${url.hash}`;
    if (extra === "") return undefined;
    return `has a path, query or fragment ("${extra}"); trustwatch only does a TLS handshake ` +
      `and sends no HTTP request, so use ${endpoint}`;
  }

  if ((url.pathname !== "" && url.pathname !== "/") || url.hash !== "") {
    return `has a path or fragment; tcp:// takes only host, port and ?sni=name, e.g. ${endpoint}`;
  }
  const keys = [...url.searchParams.keys()];
  if (keys.some((key) => key !== "sni") || keys.length > 1 || url.searchParams.get("sni") === "") {
    return `has a query other than one non-empty ?sni=name; e.g. ${endpoint}?sni=${url.hostname}`;
  }
  return undefined;
}

function readRemote(reader: ConfigReader, node: YamlNode | null, path: string): RemoteInstance {
  const map = reader.map(node, path);
  const remote: Partial<RemoteInstance> = {};
  for (const pair of map.items) {
    const key = reader.key(pair, path);
    const value = pair.value as YamlNode | null;
    const keyPath = `${path}.${key}`;
    if (key === "name") remote.name = reader.string(value, keyPath);
    else if (key === "url") remote.url = reader.url(value, keyPath, ["http:", "https:"]);
    else throw reader.error(pair.key as YamlNode, keyPath, "unknown key; expected name or url");
  }
  if (!remote.name) throw reader.error(node, `${path}.name`, "missing");
  if (!remote.url) throw reader.error(node, `${path}.url`, "missing");
  return remote as RemoteInstance;
}

function readNotifications(
  reader: ConfigReader,
  node: YamlNode | null,
  path: string,
): NotificationConfig {
  const map = reader.map(node, path);
  const notifications: NotificationConfig = {
    enabled: false,
    webhooks: [],
    severities: ["critical", "warn"],
    cooldown: "1h",
  };
  for (const pair of map.items) {
    const key = reader.key(pair, path);
    const value = pair.value as YamlNode | null;
    const keyPath = `${path}.${key}`;
    switch (key) {
      case "enabled":
        notifications.enabled = reader.boolean(value, keyPath);
        break;
      case "webhooks":
        notifications.webhooks = reader.seq(value, keyPath).map((item, index) =>
          readNotificationWebhook(reader, item, `${keyPath}[${index}]`)
        );
        break;
      case "severities":
        notifications.severities = reader.seq(value, keyPath).map((item, index) =>
          reader.severity(item, `${keyPath}[${index}]`)
        );
        break;
      case "cooldown":
        notifications.cooldown = reader.duration(value, keyPath);
        break;
      default:
        throw reader.error(
          pair.key as YamlNode,
          keyPath,
          "unknown key; expected enabled, webhooks, severities or cooldown",
        );
    }
  }
  return notifications;
}

function readNotificationWebhook(
  reader: ConfigReader,
  node: YamlNode | null,
  path: string,
): NotificationWebhook {
  const map = reader.map(node, path);
  const webhook: Partial<NotificationWebhook> = { type: "generic" };
  for (const pair of map.items) {
    const key = reader.key(pair, path);
    const value = pair.value as YamlNode | null;
    const keyPath = `${path}.${key}`;
    if (key === "url") webhook.url = reader.url(value, keyPath, ["http:", "https:"]);
    else if (key === "type") {
      const type = reader.string(value, keyPath);
      if (type !== "slack" && type !== "generic") {
        throw reader.error(
          value,
          keyPath,
          `"${type}" is not a webhook type; expected slack or generic`,
        );
      }
      webhook.type = type;
    } else throw reader.error(pair.key as YamlNode, keyPath, "unknown key; expected url or type");
  }
  if (!webhook.url) throw reader.error(node, `${path}.url`, "missing");
  return webhook as NotificationWebhook;
}

/** Typed reads of YAML nodes that throw {@linkcode ConfigError} with path and line. */
class ConfigReader {
  #source: string;
  #lineCounter: LineCounter;

  constructor(source: string, lineCounter: LineCounter) {
    this.#source = source;
    this.#lineCounter = lineCounter;
  }

  error(node: YamlNode | null, path: string, detail: string): ConfigError {
    const offset = node?.range?.[0];
    const line = offset === undefined ? undefined : this.#lineCounter.linePos(offset).line;
    return new ConfigError(this.#source, path || "(root)", line, detail);
  }

  key(pair: Pair, parent: string): string {
    const node = pair.key as YamlNode;
    if (!isScalar(node) || typeof node.value !== "string") {
      throw this.error(node, parent, "keys must be strings");
    }
    return node.value;
  }

  map(node: YamlNode | null, path: string): YAMLMap {
    if (!isMap(node)) throw this.error(node, path, "expected a mapping of keys to values");
    return node;
  }

  seq(node: YamlNode | null, path: string): (YamlNode | null)[] {
    if (!isSeq(node)) throw this.error(node, path, "expected a list");
    return node.items as (YamlNode | null)[];
  }

  string(node: YamlNode | null, path: string): string {
    if (!isScalar(node) || typeof node.value !== "string" || node.value === "") {
      throw this.error(node, path, "expected a non-empty string");
    }
    return node.value;
  }

  boolean(node: YamlNode | null, path: string): boolean {
    if (!isScalar(node) || typeof node.value !== "boolean") {
      throw this.error(node, path, "expected true or false");
    }
    return node.value;
  }

  namespaceName(node: YamlNode | null, path: string): string {
    const text = this.string(node, path);
    try {
      return validateNamespaceName(text, "value");
    } catch (error) {
      throw this.error(node, path, (error as Error).message.replace(/^value: /, ""));
    }
  }

  stringList(node: YamlNode | null, path: string): string[] {
    return this.seq(node, path).map((item, index) => this.string(item, `${path}[${index}]`));
  }

  duration(node: YamlNode | null, path: string): string {
    if (isScalar(node) && typeof node.value === "number") {
      throw this.error(
        node,
        path,
        `${node.value} has no unit; write a duration such as 720h or 90m`,
      );
    }
    const text = this.string(node, path);
    try {
      parseDuration(text);
    } catch (error) {
      throw this.error(node, path, (error as Error).message);
    }
    return text;
  }

  /** Reads a duration that arms a timer, so it must be more than 0 and at most one day. */
  timerDuration(node: YamlNode | null, path: string): string {
    const text = this.duration(node, path);
    const problem = timerDurationProblem(parseDuration(text));
    if (problem) throw this.error(node, path, `${text} is out of range; ${problem}`);
    return text;
  }

  severity(node: YamlNode | null, path: string): Severity {
    const text = this.string(node, path);
    if (!(SEVERITIES as readonly string[]).includes(text)) {
      throw this.error(
        node,
        path,
        `"${text}" is not a severity; expected ${SEVERITIES.join(", ")}`,
      );
    }
    return text as Severity;
  }

  url(node: YamlNode | null, path: string, schemes: string[], requireHost = true): string {
    const text = this.string(node, path);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw this.error(
        node,
        path,
        `"${text}" is not a URL; expected e.g. ${schemes[0]}//host:port`,
      );
    }
    if (!schemes.includes(url.protocol)) {
      throw this.error(
        node,
        path,
        `"${text}" has scheme ${url.protocol}; expected ${schemes.join(" or ")}`,
      );
    }
    if (requireHost && url.hostname === "") throw this.error(node, path, `"${text}" has no host`);
    return text;
  }

  externalUrl(node: YamlNode | null, path: string): string {
    // Checked before anything else, because the other errors quote the URL.
    const raw = this.string(node, path);
    const parsed = URL.canParse(raw) ? new URL(raw) : undefined;
    const hasUserinfo = parsed
      ? parsed.username !== "" || parsed.password !== ""
      : /^[^/]*\/\/[^/?#]*@/.test(raw);
    if (hasUserinfo) {
      let shown = "the URL";
      if (parsed) {
        parsed.username = "";
        parsed.password = "";
        shown = `"${parsed.href}"`;
      }
      throw this.error(
        node,
        path,
        `${shown} contains credentials; remove user:password@, trustwatch does not send them`,
      );
    }

    const text = this.url(node, path, ["https:", "tcp:"]);
    const url = new URL(text);
    if (url.protocol === "tcp:" && url.port === "") {
      throw this.error(
        node,
        path,
        `"${text}" has no port; tcp:// needs one, e.g. tcp://db.example.com:5432`,
      );
    }
    const problem = externalUrlProblem(url);
    if (problem) throw this.error(node, path, `"${text}" ${problem}`);
    return text;
  }

  urlPath(node: YamlNode | null, path: string): string {
    const text = this.string(node, path);
    if (!text.startsWith("/")) throw this.error(node, path, `"${text}" must start with /`);
    return text;
  }

  listenAddress(node: YamlNode | null, path: string): string {
    const text = this.string(node, path);
    const match = /^(.*):(\d+)$/.exec(text);
    if (!match || Number(match[2]) > 65535) {
      throw this.error(
        node,
        path,
        `"${text}" is not a listen address; expected [HOST]:PORT, e.g. :8080`,
      );
    }
    return text;
  }
}
