/**
 * `--tunnel`: create a SOCKS5 relay Pod, wait until it is ready, port-forward to it through the
 * API server, and hand the prober a dialer that routes every connection through it. Closing the
 * tunnel deletes the Pod, and so does every failure after the Pod was created.
 *
 * @module
 */
import { KubeApiError, type KubeClient, type KubeObject } from "../kube/client.ts";
import { Socks5Dialer } from "../probe/dialer.ts";
import { errorMessage } from "../probe/probe_failure.ts";
import { type LocalPortForward, type PortForwardLogger, startPortForward } from "./port_forward.ts";
import {
  isPodReady,
  podFailureReason,
  RELAY_PORT,
  relayPodManifest,
  relayPodName,
  type RelayPodSpec,
} from "./relay_pod.ts";

/** Time the relay Pod has to become ready, in milliseconds. */
export const DEFAULT_RELAY_READY_TIMEOUT_MS = 120_000;
/** Time allowed for deleting the relay Pod when the run ends, in milliseconds. */
const DELETE_TIMEOUT_MS = 15_000;
/** Pause between watches when the API server ends one before the Pod is ready, in milliseconds. */
const REWATCH_DELAY_MS = 500;

/** Logger for tunnel events, matching `@logtape/logtape`'s `Logger` methods. */
export interface TunnelLogger extends PortForwardLogger {
  info(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** Options of {@linkcode openTunnel}. */
export interface TunnelOptions extends RelayPodSpec {
  /** @default {DEFAULT_RELAY_READY_TIMEOUT_MS} */
  readyTimeoutMs?: number;
  /** Aborting stops the wait and deletes the Pod (SIGINT, SIGTERM). */
  signal?: AbortSignal;
  logger?: TunnelLogger;
}

/** An open tunnel: a ready relay Pod and a local port-forward to it. */
export interface Tunnel {
  /** `namespace/name` of the relay Pod. */
  pod: string;
  /** Dials through the relay. */
  dialer: Socks5Dialer;
  /** Stops the port-forward and deletes the Pod. Safe to call more than once. */
  close(): Promise<void>;
}

/** The tunnel could not be opened; the message names the Pod and the reason. */
export class TunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TunnelError";
  }
}

/**
 * Creates the relay Pod, waits until it is ready (failing fast on ErrImagePull,
 * ImagePullBackOff, CrashLoopBackOff, OOMKilled and the like), and starts a local port-forward to
 * its port 1080. Throws a {@linkcode TunnelError}, after deleting the Pod, when any step fails.
 */
export async function openTunnel(kube: KubeClient, options: TunnelOptions): Promise<Tunnel> {
  const logger = options.logger;
  const name = relayPodName();
  const label = `${options.namespace}/${name}`;
  const podsPath = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`;

  logger?.info("creating relay Pod {pod} from image {image}", { pod: label, image: options.image });
  try {
    await kube.post(podsPath, relayPodManifest(options, name), options.signal);
  } catch (error) {
    throw new TunnelError(createErrorMessage(error, label, options.namespace));
  }

  let forward: LocalPortForward | undefined;
  const deletePod = () => deleteRelayPod(kube, options.namespace, name, logger);
  try {
    await waitForReady(kube, options.namespace, name, {
      timeoutMs: options.readyTimeoutMs ?? DEFAULT_RELAY_READY_TIMEOUT_MS,
      signal: options.signal,
    });
    forward = await startPortForward(kube, {
      namespace: options.namespace,
      pod: name,
      port: RELAY_PORT,
    }, logger);
  } catch (error) {
    await deletePod();
    if (error instanceof TunnelError) throw error;
    throw new TunnelError(`relay Pod ${label}: ${errorMessage(error)}`);
  }

  logger?.info("relay Pod {pod} is ready; probes go through 127.0.0.1:{port}", {
    pod: label,
    port: forward.port,
  });
  let closing: Promise<void> | undefined;
  return {
    pod: label,
    dialer: new Socks5Dialer({ host: "127.0.0.1", port: forward.port }),
    close() {
      closing ??= forward.close().then(deletePod);
      return closing;
    },
  };
}

function createErrorMessage(error: unknown, label: string, namespace: string): string {
  if (error instanceof KubeApiError && error.status === 403) {
    return `cannot create relay Pod ${label}: ${error.message}; --tunnel needs create, get, ` +
      `watch and delete on pods and create on pods/portforward in namespace ${namespace} ` +
      "(choose another with --tunnel-ns)";
  }
  return `cannot create relay Pod ${label}: ${errorMessage(error)}`;
}

/**
 * Watches the Pod until it is ready. Rejects with a {@linkcode TunnelError} naming the container's
 * reason as soon as the Pod cannot start, when it is deleted, on timeout and on abort.
 */
async function waitForReady(
  kube: KubeClient,
  namespace: string,
  name: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const { Watch } = await import("@kubernetes/client-node");
  const label = `${namespace}/${name}`;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;

  const check = (pod: KubeObject): boolean => {
    const failure = podFailureReason(pod);
    if (failure) throw new TunnelError(`relay Pod ${label} cannot start: ${failure}`);
    return isPodReady(pod);
  };

  while (true) {
    if (signal.aborted) throw abortError(label, options, deadline);

    const outcome = await new Promise<"ready" | "ended">((resolve, reject) => {
      let controller: AbortController | undefined;
      const stop = () => {
        signal.removeEventListener("abort", onAbort);
        controller?.abort();
      };
      const onAbort = () => {
        stop();
        reject(abortError(label, options, deadline));
      };
      signal.addEventListener("abort", onAbort, { once: true });

      new Watch(kube.kubeConfig).watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { fieldSelector: `metadata.name=${name}` },
        (type, pod: KubeObject) => {
          try {
            if (type === "DELETED") {
              throw new TunnelError(`relay Pod ${label} was deleted before it became ready`);
            }
            if (type === "ERROR") {
              throw new TunnelError(`watching relay Pod ${label} failed: ${pod?.message ?? type}`);
            }
            if (check(pod)) {
              stop();
              resolve("ready");
            }
          } catch (error) {
            stop();
            reject(error);
          }
        },
        (error) => {
          stop();
          if (signal.aborted) return;
          if (error && !(error instanceof DOMException)) {
            reject(new TunnelError(`watching relay Pod ${label} failed: ${errorMessage(error)}`));
          } else {
            resolve("ended");
          }
        },
      ).then((started) => {
        controller = started;
        if (signal.aborted) started.abort();
      }, (error) => {
        stop();
        reject(new TunnelError(`watching relay Pod ${label} failed: ${errorMessage(error)}`));
      });
    });
    if (outcome === "ready") return;

    // The server closed the watch (its timeout) before the Pod was ready: look once, then watch
    // again.
    const pod = await kube.get<KubeObject>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
      signal,
    );
    if (check(pod)) return;
    await new Promise((resolve) => setTimeout(resolve, REWATCH_DELAY_MS));
  }
}

function abortError(
  label: string,
  options: { timeoutMs: number; signal?: AbortSignal },
  deadline: AbortSignal,
): TunnelError {
  if (deadline.aborted && !options.signal?.aborted) {
    return new TunnelError(
      `relay Pod ${label} was not ready within ${options.timeoutMs / 1000}s; ` +
        `check it with kubectl describe pod -n ${label.replace("/", " ")}`,
    );
  }
  return new TunnelError(`waiting for relay Pod ${label} was interrupted`);
}

/** Deletes the relay Pod at once. A Pod that is already gone counts as deleted. */
export async function deleteRelayPod(
  kube: KubeClient,
  namespace: string,
  name: string,
  logger?: TunnelLogger,
): Promise<void> {
  const label = `${namespace}/${name}`;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${
    encodeURIComponent(name)
  }`;
  try {
    await kube.delete(
      path,
      { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 },
      AbortSignal.timeout(DELETE_TIMEOUT_MS),
    );
    logger?.info("deleted relay Pod {pod}", { pod: label });
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return;
    logger?.error(
      "could not delete relay Pod {pod}: {error}; delete it with kubectl delete pod -n {namespace} {name}",
      { pod: label, error: errorMessage(error), namespace, name },
    );
  }
}
