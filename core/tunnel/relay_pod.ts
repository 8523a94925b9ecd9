/**
 * The relay Pod of `--tunnel`: its manifest, and the rules that read a Pod's status as ready,
 * still starting, or failed for a reason that waiting will not fix.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";

/** Namespace the relay Pod is created in unless `--tunnel-ns` says otherwise. */
export const DEFAULT_TUNNEL_NAMESPACE = "default";
/** Image of the relay Pod unless `--tunnel-image` says otherwise: a small SOCKS5 server on 1080. */
export const DEFAULT_TUNNEL_IMAGE = "serjs/go-socks5-proxy:latest";
/** Port the relay listens on inside the Pod. */
export const RELAY_PORT = 1080;
/** Upper bound on the relay Pod's life, so a Pod left behind by a killed run stops by itself. */
export const RELAY_ACTIVE_DEADLINE_SECONDS = 300;
/** User and group the relay runs as: `nobody`, so `runAsNonRoot` holds for any image. */
export const RELAY_RUN_AS_ID = 65534;
/** Name of the relay container. */
export const RELAY_CONTAINER_NAME = "relay";

/** Labels every relay Pod carries, so `kubectl get pods -l` finds leftovers. */
export const RELAY_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "trustwatch-relay",
  "app.kubernetes.io/component": "socks5-relay",
  "app.kubernetes.io/managed-by": "trustwatch",
};

/** Label selector matching every relay Pod. */
export const RELAY_LABEL_SELECTOR = Object.entries(RELAY_LABELS)
  .map(([key, value]) => `${key}=${value}`)
  .join(",");

/**
 * Container waiting reasons after which the Pod will not become ready without a change
 * (a new image, a new secret, more memory).
 */
const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

/** What the relay Pod is made from. */
export interface RelayPodSpec {
  namespace: string;
  image: string;
  /** Name of a `kubernetes.io/dockerconfigjson` Secret in `namespace`. */
  pullSecret?: string;
  /** Container entrypoint, e.g. `["/trustwatch", "socks5"]`; the image's own when omitted. */
  command?: string[];
}

/** Returns a relay Pod name: `trustwatch-relay-` and five random lowercase characters. */
export function relayPodName(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const random = crypto.getRandomValues(new Uint8Array(5));
  return `trustwatch-relay-${
    Array.from(random, (byte) => alphabet[byte % alphabet.length]).join("")
  }`;
}

/**
 * Builds the relay Pod: one container listening on {@linkcode RELAY_PORT}, no service account
 * token, non-root with every capability dropped and a read-only root file system, and an
 * `activeDeadlineSeconds` that ends it even when trustwatch cannot delete it.
 */
export function relayPodManifest(spec: RelayPodSpec, name: string): KubeObject {
  const container: Record<string, unknown> = {
    name: RELAY_CONTAINER_NAME,
    image: spec.image,
    ports: [{ name: "socks5", containerPort: RELAY_PORT, protocol: "TCP" }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: {
      requests: { cpu: "10m", memory: "16Mi" },
      limits: { cpu: "500m", memory: "128Mi" },
    },
    readinessProbe: { tcpSocket: { port: RELAY_PORT }, periodSeconds: 1 },
  };
  if (spec.command && spec.command.length > 0) container.command = [...spec.command];

  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: spec.namespace,
      labels: { ...RELAY_LABELS },
      annotations: {
        "trustwatch.dev/purpose":
          "SOCKS5 relay of trustwatch --tunnel; deleted when the run ends, stops after 300s",
      },
    },
    spec: {
      activeDeadlineSeconds: RELAY_ACTIVE_DEADLINE_SECONDS,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RELAY_RUN_AS_ID,
        runAsGroup: RELAY_RUN_AS_ID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      ...(spec.pullSecret ? { imagePullSecrets: [{ name: spec.pullSecret }] } : {}),
      containers: [container],
    },
  };
}

/** Returns whether a Pod is Running with its Ready condition true. */
export function isPodReady(pod: KubeObject): boolean {
  if (pod.status?.phase !== "Running") return false;
  const conditions: { type?: string; status?: string }[] = pod.status?.conditions ?? [];
  return conditions.some((condition) => condition.type === "Ready" && condition.status === "True");
}

/**
 * Returns why a Pod cannot become ready, e.g. `ImagePullBackOff: Back-off pulling image "x"`,
 * or `undefined` while it may still start. Covers fatal waiting reasons, terminated containers
 * (OOMKilled, Error, exit codes), and the Failed and Succeeded phases.
 */
export function podFailureReason(pod: KubeObject): string | undefined {
  const statuses: ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
      return withMessage(waiting.reason, waiting.message, status.lastState?.terminated);
    }
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    if (terminated) return describeTermination(terminated);
  }

  const phase = pod.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") {
    const reason = pod.status?.reason ?? phase;
    return withMessage(reason, pod.status?.message);
  }
  return undefined;
}

interface Termination {
  reason?: string;
  message?: string;
  exitCode?: number;
}

interface ContainerStatus {
  name?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: Termination };
  lastState?: { terminated?: Termination };
}

function describeTermination(terminated: Termination): string {
  const reason = terminated.reason ?? "Terminated";
  const exit = terminated.exitCode !== undefined ? ` (exit code ${terminated.exitCode})` : "";
  return withMessage(`${reason}${exit}`, terminated.message);
}

function withMessage(reason: string, message?: string, lastTermination?: Termination): string {
  const parts = [reason];
  if (message) parts.push(message.replace(/\s+/g, " ").trim());
  if (lastTermination) parts.push(`last exit: ${describeTermination(lastTermination)}`);
  return parts.join(": ");
}
