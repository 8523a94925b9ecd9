/**
 * The sandbox API server's request handler: authentication, discovery, list and get of stored
 * objects, and SelfSubjectAccessReview.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type AccessRules, isAllowed, readRequest } from "./access.ts";
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  coreApiVersions,
  versionInfo,
} from "./discovery.ts";
import type { PodController } from "./pods.ts";
import { joinApiVersion, type KubeObject, type ResourceType } from "./resources.ts";
import { type ObjectPredicate, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import {
  badRequest,
  forbidden,
  methodNotAllowed,
  objectNotFound,
  resourceNotFound,
  StatusError,
  unauthorized,
} from "./status.ts";
import { compareKeys, listKey, type ObjectStore } from "./store.ts";

/** One handled request, as tests inspect it. */
export interface RequestLogEntry {
  method: string;
  /** Path with the query string, e.g. `/api/v1/secrets?fieldSelector=type%3D...`. */
  path: string;
  status: number;
}

/** What the handler needs from the running sandbox. */
export interface ApiContext {
  store: ObjectStore;
  token: string;
  access: AccessRules;
  /** Delay added before every response, in milliseconds. */
  latencyMs: number;
  /** `host:port` the server listens on, reported in `/api`. */
  serverAddress: () => string;
  requestLog: RequestLogEntry[];
  /** Serves Pod create, delete, watch and port-forward; other Pod requests fall through. */
  pods?: PodController;
}

const SSAR_GROUP = "authorization.k8s.io";
const SSAR_PATH = `/apis/${SSAR_GROUP}/v1/selfsubjectaccessreviews`;
const CONTINUE_TOKEN_VERSION = "meta.k8s.io/v1";

const logger = getLogger(["trustwatch", "sandbox", "api"]);

/** Creates the fetch-style handler that serves the sandbox's Kubernetes API. */
export function createApiHandler(context: ApiContext): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname + url.search;
    let response: Response;

    try {
      if (context.latencyMs > 0) await delay(context.latencyMs);
      authenticate(request, context.token);
      response = await route(request, url, context);
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      response = jsonResponse(error.status, error.status.code);
    }

    context.requestLog.push({ method: request.method, path, status: response.status });
    logger.debug("{method} {path} -> {status}", {
      method: request.method,
      path,
      status: response.status,
    });
    return response;
  };
}

function authenticate(request: Request, token: string): void {
  const header = request.headers.get("authorization") ?? "";
  if (header !== `Bearer ${token}`) throw unauthorized();
}

async function route(request: Request, url: URL, context: ApiContext): Promise<Response> {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const segments = path.split("/").filter((segment) => segment !== "");
  const types = context.store.types();

  const podResponse = await context.pods?.handle(request, url);
  if (podResponse) return podResponse;
  if (request.method === "POST" && path === SSAR_PATH) {
    return await selfSubjectAccessReview(request, context);
  }
  if (request.method !== "GET") throw methodNotAllowed(request.method, path);

  if (path === "/version") return jsonResponse(versionInfo());
  if (["/healthz", "/livez", "/readyz"].includes(path)) return textResponse("ok");
  if (path === "/api") return jsonResponse(coreApiVersions(context.serverAddress()));
  if (path === "/apis") return jsonResponse(apiGroupList(types));

  if (segments[0] === "api" && segments[1] === "v1") {
    return serveGroupVersion(context, types, "", "v1", segments.slice(2), url);
  }
  if (segments[0] === "apis" && segments.length === 2) {
    const group = apiGroup(types, segments[1]);
    if (!group) throw resourceNotFound();
    return jsonResponse(group);
  }
  if (segments[0] === "apis" && segments.length >= 3) {
    return serveGroupVersion(context, types, segments[1], segments[2], segments.slice(3), url);
  }
  throw resourceNotFound();
}

function serveGroupVersion(
  context: ApiContext,
  types: ResourceType[],
  group: string,
  version: string,
  rest: string[],
  url: URL,
): Response {
  if (rest.length === 0) {
    const list = apiResourceList(types, group, version);
    if (!list) throw resourceNotFound();
    return jsonResponse(list);
  }

  const target = parseResourcePath(rest);
  const type = types.find((candidate) =>
    candidate.group === group && candidate.version === version &&
    candidate.plural === target.plural
  );
  if (!type || !type.verbs.includes("get")) {
    if (type) throw methodNotAllowed("GET", url.pathname);
    throw resourceNotFound();
  }
  if (target.namespace !== undefined && !type.namespaced) throw resourceNotFound();
  if (target.namespace === undefined && target.name !== undefined && type.namespaced) {
    throw resourceNotFound();
  }
  if (isWatch(url)) {
    // NOTE: watch is not implemented. kubectl get without -w never requests it.
    throw badRequest("watch is not supported by the sandbox API server");
  }

  const verb = target.name === undefined ? "list" : "get";
  if (!isAllowed(context.access, readRequest(type, verb, target.namespace))) {
    throw forbidden(verb, type.group, type.plural, target.namespace, target.name);
  }

  if (target.name !== undefined) {
    const object = context.store.get(type, target.namespace, target.name);
    if (!object) throw objectNotFound(type.group, type.plural, target.name);
    return jsonResponse(withTypeMeta(object, type));
  }
  return jsonResponse(listObjects(context.store, type, target.namespace, url.searchParams));
}

interface ResourcePath {
  plural: string;
  namespace?: string;
  name?: string;
}

/**
 * Splits the path after the group version: `plural`, `plural/name`, `namespaces/NS/plural` or
 * `namespaces/NS/plural/name`. Subresources (`.../name/status`) are not served.
 */
function parseResourcePath(rest: string[]): ResourcePath {
  const decoded = rest.map(decodeURIComponent);
  if (decoded[0] === "namespaces" && decoded.length >= 3) {
    if (decoded.length > 4) throw resourceNotFound();
    return { namespace: decoded[1], plural: decoded[2], name: decoded[3] };
  }
  if (decoded.length > 2) throw resourceNotFound();
  return { plural: decoded[0], name: decoded[1] };
}

function isWatch(url: URL): boolean {
  const watch = url.searchParams.get("watch");
  return watch === "true" || watch === "1";
}

function listObjects(
  store: ObjectStore,
  type: ResourceType,
  namespace: string | undefined,
  params: URLSearchParams,
): Record<string, unknown> {
  const predicates = selectorPredicates(type, params);
  const matching = store.listByType(type, namespace)
    .filter((object) => predicates.every((matches) => matches(object)));

  const startAfter = decodeContinueToken(params.get("continue"));
  const remaining = startAfter === undefined
    ? matching
    : matching.filter((object) => compareKeys(listKey(object), startAfter) > 0);

  const limit = Number.parseInt(params.get("limit") ?? "", 10);
  const page = limit > 0 ? remaining.slice(0, limit) : remaining;
  const metadata: Record<string, unknown> = { resourceVersion: store.resourceVersion };
  if (page.length < remaining.length) {
    metadata.continue = encodeContinueToken(listKey(page[page.length - 1]), store);
    metadata.remainingItemCount = remaining.length - page.length;
  }

  return {
    kind: `${type.kind}List`,
    apiVersion: joinApiVersion(type.group, type.version),
    metadata,
    items: page.map((object) => withTypeMeta(object, type)),
  };
}

function selectorPredicates(type: ResourceType, params: URLSearchParams): ObjectPredicate[] {
  const predicates: ObjectPredicate[] = [];
  try {
    const fieldSelector = params.get("fieldSelector");
    if (fieldSelector) predicates.push(parseFieldSelector(fieldSelector, type.plural));
    const labelSelector = params.get("labelSelector");
    if (labelSelector) predicates.push(parseLabelSelector(labelSelector));
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return predicates;
}

/**
 * Encodes the continue token: base64 JSON of the last returned `namespace/name` key, the form
 * the real API server uses, so clients must treat it as opaque.
 */
function encodeContinueToken(lastKey: string, store: ObjectStore): string {
  const json = JSON.stringify({
    v: CONTINUE_TOKEN_VERSION,
    rv: Number(store.resourceVersion),
    start: lastKey,
  });
  return btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeContinueToken(token: string | null): string | undefined {
  if (!token) return undefined;
  try {
    const base64 = token.replace(/-/g, "+").replace(/_/g, "/");
    const parsed = JSON.parse(atob(base64)) as { v?: unknown; start?: unknown };
    if (parsed.v === CONTINUE_TOKEN_VERSION && typeof parsed.start === "string") {
      return parsed.start;
    }
  } catch {
    // Reported below like any other malformed token.
  }
  throw badRequest(`continue key is not valid: ${JSON.stringify(token)}`);
}

function withTypeMeta(object: KubeObject, type: ResourceType): KubeObject {
  return { ...object, apiVersion: joinApiVersion(type.group, type.version), kind: type.kind };
}

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  resource?: string;
  group?: string;
}

async function selfSubjectAccessReview(request: Request, context: ApiContext): Promise<Response> {
  let review: { spec?: { resourceAttributes?: ResourceAttributes } };
  try {
    review = await request.json();
  } catch (error) {
    throw badRequest(`invalid SelfSubjectAccessReview body: ${(error as Error).message}`);
  }

  const spec = review?.spec ?? {};
  const attributes = spec.resourceAttributes ?? {};
  const group = attributes.group ?? "";
  const resource = attributes.resource ?? "";
  const type = context.store.types().find((candidate) =>
    candidate.group === group && candidate.plural === resource
  );
  const allowed = isAllowed(context.access, {
    verb: attributes.verb ?? "",
    resource,
    namespace: attributes.namespace,
    namespaced: type?.namespaced ?? true,
  });

  const body = {
    kind: "SelfSubjectAccessReview",
    apiVersion: `${SSAR_GROUP}/v1`,
    metadata: { creationTimestamp: null },
    spec,
    status: allowed
      ? { allowed: true, reason: "allowed by the sandbox token's role" }
      : { allowed: false },
  };
  return jsonResponse(body, 201);
}

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function textResponse(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
