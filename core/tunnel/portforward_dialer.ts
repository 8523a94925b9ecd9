/**
 * `--probe-via portforward`: dial a Service name (`<service>.<namespace>.svc`) by port-forwarding
 * to a ready Pod behind it, found through EndpointSlices. No relay image is needed. Endpoints
 * without a Pod behind them are dialed directly, with a warning that gives the reason.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { KubeClient } from "../kube/client.ts";
import type { DialTarget } from "../probe/dial_target.ts";
import { connectTcp, type Dialer, DirectDialer } from "../probe/dialer.ts";
import { errorMessage, ProbeFailure } from "../probe/probe_failure.ts";
import { type LocalPortForward, startPortForward } from "./port_forward.ts";
import {
  findServiceBackend,
  NoReadyEndpointError,
  type ServiceBackend,
} from "./service_endpoints.ts";
import type { TunnelLogger } from "./tunnel.ts";

/** `<service>.<namespace>.svc`, optionally followed by the cluster domain. */
const SERVICE_HOST =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.[a-z0-9.-]+)?\.?$/i;

/** Returns the Service a host name refers to, or `undefined` for other names. */
export function serviceOfHost(host: string): { namespace: string; name: string } | undefined {
  const match = SERVICE_HOST.exec(host);
  if (!match) return undefined;
  return { name: match[1].toLowerCase(), namespace: match[3].toLowerCase() };
}

/**
 * Dials Service names through a port-forward to a ready Pod behind them, and everything else
 * directly. One local port-forward per Pod port is kept until {@linkcode close}.
 */
export class PortForwardDialer implements Dialer {
  readonly route = "port-forward";
  readonly #kube: KubeClient;
  readonly #logger?: TunnelLogger;
  readonly #direct = new DirectDialer();
  readonly #backends = new Map<string, Promise<ServiceBackend>>();
  readonly #forwards = new Map<string, Promise<LocalPortForward>>();
  readonly #warned = new Set<string>();

  constructor(kube: KubeClient, logger?: TunnelLogger) {
    this.#kube = kube;
    this.#logger = logger;
  }

  async dial(target: DialTarget): Promise<Socket> {
    const service = serviceOfHost(target.address);
    if (!service) {
      this.#warnDirect(target.peer, "it is not a Service name");
      return this.#direct.dial(target);
    }

    const backend = await this.#backendOf(service, target);
    if (backend.kind === "no-pod") {
      this.#warnDirect(target.peer, backend.reason);
      return this.#direct.dial(target);
    }

    const { namespace, pod, port } = backend.endpoint;
    let forward: LocalPortForward;
    try {
      forward = await this.#forwardTo(namespace, pod, port);
    } catch (error) {
      throw new ProbeFailure(
        "UNREACHABLE",
        `port-forward to pod ${namespace}/${pod}:${port} for ${target.peer} failed: ${
          errorMessage(error)
        }`,
      );
    }
    this.#logger?.debug("dialing {endpoint} through port-forward to pod {pod}", {
      endpoint: target.peer,
      pod: forward.target,
    });
    return connectTcp("127.0.0.1", forward.port, target, `port-forward to ${forward.target}`);
  }

  /** Stops every port-forward this dialer started. */
  async close(): Promise<void> {
    const forwards = await Promise.allSettled(this.#forwards.values());
    await Promise.all(
      forwards.map((result) => result.status === "fulfilled" ? result.value.close() : undefined),
    );
  }

  async #backendOf(
    service: { namespace: string; name: string },
    target: DialTarget,
  ): Promise<ServiceBackend> {
    const key = `${service.namespace}/${service.name}:${target.port}`;
    let backend = this.#backends.get(key);
    if (!backend) {
      backend = findServiceBackend(this.#kube, service.namespace, service.name, target.port);
      this.#backends.set(key, backend);
    }
    try {
      return await backend;
    } catch (error) {
      if (error instanceof NoReadyEndpointError) {
        throw new ProbeFailure("UNREACHABLE", `${error.message}; nothing to port-forward to`);
      }
      throw new ProbeFailure(
        "UNREACHABLE",
        `cannot find the Pod behind ${target.peer}: ${errorMessage(error)}`,
      );
    }
  }

  #forwardTo(namespace: string, pod: string, port: number): Promise<LocalPortForward> {
    const key = `${namespace}/${pod}:${port}`;
    let forward = this.#forwards.get(key);
    if (!forward) {
      forward = startPortForward(this.#kube, { namespace, pod, port }, this.#logger);
      this.#forwards.set(key, forward);
    }
    return forward;
  }

  #warnDirect(endpoint: string, reason: string): void {
    if (this.#warned.has(endpoint)) return;
    this.#warned.add(endpoint);
    this.#logger?.warn("no Pod behind {endpoint} ({reason}); dialing it directly", {
      endpoint,
      reason,
    });
  }
}
