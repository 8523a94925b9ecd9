/**
 * Pods in the sandbox: create, delete and watch through the API, phase changes as a kubelet would
 * report them, and port-forward to a process the sandbox runs for the Pod.
 *
 * What a created Pod becomes depends on its spec:
 * - an image in `unpullableImages`, or from a registry host ending in `.invalid`: ErrImagePull,
 *   then ImagePullBackOff;
 * - a relay (command containing `socks5`, or an image named like a SOCKS5 proxy): the real
 *   `trustwatch socks5` as a subprocess, resolving the sandbox's Service names to its loopback
 *   TLS backends; Running and Ready once it listens;
 * - the annotation `sandbox.trustwatch.dev/tls-backend: NAME`: Running at once, and every port
 *   forwards to that TLSBackend;
 * - anything else: the container exits with code 1, then CrashLoopBackOff.
 *
 * Pods loaded from manifests keep their status; port-forward works for those that carry the
 * backend annotation.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type AccessRules, isAllowed } from "./access.ts";
import { type ForwardTarget, servePortForward } from "./port_forward.ts";
import { type RelayProcess, startRelayProcess } from "./relay_process.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { type ObjectPredicate, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { badRequest, forbidden, objectNotFound, StatusError } from "./status.ts";
import type { ObjectStore, StoreEvent } from "./store.ts";

/** Annotation that ties a Pod's ports to a TLSBackend of the sandbox. */
export const TLS_BACKEND_ANNOTATION = "sandbox.trustwatch.dev/tls-backend";

/** Delay before a simulated kubelet reports the next state, in milliseconds. */
const STATE_STEP_MS = 150;

const logger = getLogger(["trustwatch", "sandbox", "pods"]);

/** What the pod controller needs from the sandbox. */
export interface PodContext {
  store: ObjectStore;
  access: AccessRules;
  /** Loopback port of each TLSBackend by name. */
  backendPorts: ReadonlyMap<string, number>;
  /** `HOST:PORT:127.0.0.1` entries the relay process resolves with. */
  resolveEntries: string[];
  /** Images whose pull fails. */
  unpullableImages: ReadonlySet<string>;
}

/** Runs the Pods created through the sandbox API. */
export class PodController {
  readonly #context: PodContext;
  readonly #relays = new Map<string, RelayProcess>();
  readonly #starting = new Map<string, AbortController>();
  readonly #watches = new Set<() => void>();

  constructor(context: PodContext) {
    this.#context = context;
  }

  /** Process ids of the relay subprocesses running now. */
  runningRelays(): number[] {
    return [...this.#relays.values()].map((relay) => relay.pid);
  }

  /**
   * Handles Pod create, delete, watch and port-forward requests and returns `undefined` for any
   * other request, which the generic handler then serves.
   */
  async handle(request: Request, url: URL): Promise<Response | undefined> {
    const segments = url.pathname.replace(/\/+$/, "").split("/").filter((part) => part !== "")
      .map(decodeURIComponent);
    if (segments[0] !== "api" || segments[1] !== "v1") return undefined;

    const rest = segments.slice(2);
    const namespaced = rest[0] === "namespaces" && rest[2] === "pods";
    const clusterWide = rest[0] === "pods" && rest.length === 1;
    if (!namespaced && !clusterWide) return undefined;
    const namespace = namespaced ? rest[1] : undefined;
    const name = namespaced ? rest[3] : undefined;
    const subresource = namespaced ? rest[4] : undefined;
    if (rest.length > (namespaced ? 5 : 1)) return undefined;

    if (request.method === "POST" && namespace !== undefined && name === undefined) {
      this.#authorize("create", namespace);
      return await this.#create(request, namespace);
    }
    if (request.method === "DELETE" && namespace !== undefined && name && !subresource) {
      this.#authorize("delete", namespace, name);
      return await this.#delete(namespace, name);
    }
    if (request.method === "GET" && name === undefined && isWatch(url)) {
      this.#authorize("watch", namespace);
      return this.#watch(namespace, url.searchParams);
    }
    if (subresource === "portforward" && namespace !== undefined && name) {
      this.#authorize("create", namespace, name, "pods/portforward");
      return this.#portForward(request, url, namespace, name);
    }
    return undefined;
  }

  /** Stops every relay subprocess and ends every watch. */
  async close(): Promise<void> {
    for (const controller of this.#starting.values()) controller.abort();
    for (const end of this.#watches) end();
    await Promise.all([...this.#relays.values()].map((relay) => relay.stop()));
    this.#relays.clear();
  }

  #authorize(verb: string, namespace?: string, name?: string, resource = "pods"): void {
    const request = { verb, resource, namespace, namespaced: true };
    if (!isAllowed(this.#context.access, request)) {
      throw forbidden(verb, "", resource, namespace, name);
    }
  }

  async #create(request: Request, namespace: string): Promise<Response> {
    let pod: KubeObject;
    try {
      pod = await request.json();
    } catch (error) {
      throw badRequest(`invalid Pod body: ${(error as Error).message}`);
    }
    if (pod?.kind !== "Pod" || typeof pod.metadata?.name !== "string" || !pod.metadata.name) {
      throw badRequest("Pod body needs kind Pod and metadata.name");
    }
    if (pod.metadata.namespace && pod.metadata.namespace !== namespace) {
      throw badRequest(
        `the namespace of the object (${pod.metadata.namespace}) does not match the namespace on the request (${namespace})`,
      );
    }
    const name = pod.metadata.name;
    if (this.#find(namespace, name)) {
      throw new StatusError(409, "AlreadyExists", `pods "${name}" already exists`, {
        name,
        kind: "pods",
      });
    }

    const containers = (pod.spec as { containers?: Container[] })?.containers ?? [];
    if (containers.length === 0 || containers.some((container) => !container.image)) {
      throw new StatusError(
        422,
        "Invalid",
        `Pod "${name}" is invalid: spec.containers: Required value`,
        { name, kind: "Pod" },
      );
    }

    const stored = this.#context.store.add({
      ...pod,
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...pod.metadata, namespace },
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        containerStatuses: containers.map((container) =>
          containerStatus(container, { waiting: { reason: "ContainerCreating" } })
        ),
      },
    });
    logger.debug("pod {namespace}/{name} created", { namespace, name });

    const controller = new AbortController();
    const key = `${namespace}/${name}`;
    this.#starting.set(key, controller);
    this.#run(stored, containers, controller.signal)
      .catch((error) => {
        logger.warn("pod {pod} failed in the sandbox: {error}", {
          pod: key,
          error: (error as Error).message,
        });
      })
      .finally(() => this.#starting.delete(key));
    return jsonResponse(stored, 201);
  }

  async #run(pod: KubeObject, containers: Container[], signal: AbortSignal): Promise<void> {
    const { namespace = "", name } = pod.metadata;
    const container = containers[0];
    await delay(STATE_STEP_MS);
    if (signal.aborted) return;

    if (this.#isUnpullable(container.image)) {
      this.#update(namespace, name, containers, "Pending", {
        waiting: {
          reason: "ErrImagePull",
          message:
            `failed to pull and unpack image "${container.image}": failed to resolve reference: not found`,
        },
      });
      await delay(STATE_STEP_MS * 3);
      if (signal.aborted) return;
      this.#update(namespace, name, containers, "Pending", {
        waiting: {
          reason: "ImagePullBackOff",
          message: `Back-off pulling image "${container.image}"`,
        },
      });
      return;
    }

    const annotations = (pod.metadata.annotations ?? {}) as Record<string, string>;
    if (annotations[TLS_BACKEND_ANNOTATION]) {
      this.#update(namespace, name, containers, "Running", { running: {} }, true);
      return;
    }

    if (!isRelay(container)) {
      this.#update(namespace, name, containers, "Running", {
        terminated: { reason: "Error", exitCode: 1, message: "sandbox runs no such command" },
      });
      await delay(STATE_STEP_MS);
      if (signal.aborted) return;
      this.#update(
        namespace,
        name,
        containers,
        "Running",
        {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off 10s restarting failed container=${container.name} pod=${name}`,
          },
        },
        false,
        { terminated: { reason: "Error", exitCode: 1 } },
      );
      return;
    }

    const relay = await startRelayProcess(this.#context.resolveEntries);
    if (signal.aborted || !this.#find(namespace, name)) {
      await relay.stop();
      return;
    }
    const key = `${namespace}/${name}`;
    this.#relays.set(key, relay);
    relay.exited.then((code) => {
      if (this.#relays.get(key) !== relay) return;
      this.#relays.delete(key);
      if (!this.#find(namespace, name)) return;
      this.#update(namespace, name, containers, "Running", {
        terminated: { reason: code === 0 ? "Completed" : "Error", exitCode: code },
      });
    });
    this.#update(namespace, name, containers, "Running", { running: {} }, true);
  }

  #isUnpullable(image: string): boolean {
    if (this.#context.unpullableImages.has(image)) return true;
    const registry = image.includes("/") ? image.slice(0, image.indexOf("/")) : "";
    return /\.invalid(:\d+)?$/.test(registry);
  }

  #update(
    namespace: string,
    name: string,
    containers: Container[],
    phase: string,
    state: Record<string, unknown>,
    ready = false,
    lastState?: Record<string, unknown>,
  ): void {
    const pod = this.#find(namespace, name);
    if (!pod) return;
    const status = {
      ...(pod.status as Record<string, unknown>),
      phase,
      podIP: "127.0.0.1",
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Ready", status: ready ? "True" : "False" },
      ],
      containerStatuses: containers.map((container) => ({
        ...containerStatus(container, state, lastState),
        ready,
      })),
    };
    this.#context.store.add({ ...pod, status });
  }

  async #delete(namespace: string, name: string): Promise<Response> {
    const pod = this.#find(namespace, name);
    if (!pod) throw objectNotFound("", "pods", name);
    const key = `${namespace}/${name}`;
    this.#starting.get(key)?.abort();
    this.#context.store.delete("Pod", namespace, name);

    const relay = this.#relays.get(key);
    this.#relays.delete(key);
    await relay?.stop();
    logger.debug("pod {pod} deleted", { pod: key });

    const deleted = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() },
    };
    return jsonResponse(deleted);
  }

  #watch(namespace: string | undefined, params: URLSearchParams): Response {
    let predicates: ObjectPredicate[];
    try {
      predicates = [];
      const fieldSelector = params.get("fieldSelector");
      if (fieldSelector) predicates.push(parseFieldSelector(fieldSelector, "pods"));
      const labelSelector = params.get("labelSelector");
      if (labelSelector) predicates.push(parseLabelSelector(labelSelector));
    } catch (error) {
      throw badRequest((error as Error).message);
    }
    const matches = (object: KubeObject) =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      predicates.every((predicate) => predicate(object));

    const encoder = new TextEncoder();
    let end = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = (type: string, object: KubeObject) => {
          controller.enqueue(encoder.encode(JSON.stringify({ type, object }) + "\n"));
        };
        // Without a resourceVersion, a watch starts with the current objects as ADDED events.
        if (!params.get("resourceVersion")) {
          for (const pod of this.#context.store.list("Pod").filter(matches)) send("ADDED", pod);
        }
        const unsubscribe = this.#context.store.subscribe((event: StoreEvent) => {
          if (!isPodType(event.resourceType) || !matches(event.object)) return;
          send(event.type, { ...event.object, apiVersion: "v1", kind: "Pod" });
        });
        const timeoutSeconds = Number(params.get("timeoutSeconds") ?? 0);
        const timer = timeoutSeconds > 0
          ? setTimeout(() => end(), timeoutSeconds * 1000)
          : undefined;
        end = () => {
          clearTimeout(timer);
          unsubscribe();
          this.#watches.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed or cancelled.
          }
        };
        this.#watches.add(end);
      },
      cancel: () => end(),
    });
    return new Response(body, {
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
    });
  }

  #portForward(request: Request, url: URL, namespace: string, name: string): Response {
    const pod = this.#find(namespace, name);
    if (!pod) throw objectNotFound("", "pods", name);
    const status = pod.status as { phase?: string } | undefined;
    if (status?.phase !== "Running") {
      throw badRequest(`pod ${name} is not running (phase ${status?.phase ?? "unknown"})`);
    }
    const label = `${namespace}/${name}`;
    const resolveTarget = (port: number): ForwardTarget => {
      const relay = this.#relays.get(label);
      if (relay && port === RELAY_PORT) return { port: relay.port };
      const backend = ((pod.metadata.annotations ?? {}) as Record<string, string>)[
        TLS_BACKEND_ANNOTATION
      ];
      const backendPort = backend ? this.#context.backendPorts.get(backend) : undefined;
      if (backendPort !== undefined) return { port: backendPort };
      return {
        error:
          `error forwarding port ${port} to pod ${label}: nothing listens on port ${port} in the sandbox`,
      };
    };
    return servePortForward(request, url, label, resolveTarget);
  }

  #find(namespace: string, name: string): KubeObject | undefined {
    return this.#context.store.list("Pod").find((pod) =>
      pod.metadata.namespace === namespace && pod.metadata.name === name
    );
  }
}

/** Port the sandbox forwards to a relay Pod's subprocess. */
const RELAY_PORT = 1080;

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
}

function isRelay(container: Container): boolean {
  const command = [...(container.command ?? []), ...(container.args ?? [])];
  if (command.length > 0) return command.some((word) => /(^|\/)socks5$/.test(word));
  return /socks5?-proxy|socks5/i.test(container.image);
}

function containerStatus(
  container: Container,
  state: Record<string, unknown>,
  lastState?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    name: container.name,
    image: container.image,
    imageID: "",
    ready: false,
    restartCount: lastState ? 1 : 0,
    started: "running" in state,
    state,
    ...(lastState ? { lastState } : {}),
  };
}

function isPodType(type: ResourceType): boolean {
  return type.group === "" && type.kind === "Pod";
}

function isWatch(url: URL): boolean {
  const watch = url.searchParams.get("watch");
  return watch === "true" || watch === "1";
}

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
