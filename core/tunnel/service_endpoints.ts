/**
 * Finds the Pod behind a Service port through its EndpointSlices, the way kube-proxy picks a
 * backend: a ready endpoint with a Pod `targetRef`, and the slice's port for the Service port.
 *
 * @module
 */
import { KubeApiError, type KubeClient, type KubeObject } from "../kube/client.ts";

/** Label that ties an EndpointSlice to its Service. */
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** A Pod port to port-forward to. */
export interface PodEndpoint {
  namespace: string;
  pod: string;
  port: number;
}

/** The backend of a Service port: a Pod, or the reason no port-forward can reach it. */
export type ServiceBackend =
  | { kind: "pod"; endpoint: PodEndpoint }
  | { kind: "no-pod"; reason: string };

/** The Service has no ready endpoint: requests to it fail, from the API server too. */
export class NoReadyEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoReadyEndpointError";
  }
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

interface SliceEndpoint {
  conditions?: { ready?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

/**
 * Returns the Pod and port behind `service:port`, or `no-pod` for a Service a port-forward
 * cannot reach (ExternalName, endpoints that are not Pods). Throws
 * {@linkcode NoReadyEndpointError} when the Service is missing or has no ready endpoint, and
 * `KubeApiError` for other API failures.
 */
export async function findServiceBackend(
  kube: KubeClient,
  namespace: string,
  service: string,
  port: number,
  signal?: AbortSignal,
): Promise<ServiceBackend> {
  const label = `${namespace}/${service}`;
  let object: KubeObject;
  try {
    object = await kube.get<KubeObject>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}`,
      signal,
    );
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) {
      throw new NoReadyEndpointError(`service ${label} not found`);
    }
    throw error;
  }

  if (object.spec?.type === "ExternalName") {
    return { kind: "no-pod", reason: `service ${label} is an ExternalName service` };
  }
  const ports: ServicePort[] = object.spec?.ports ?? [];
  const servicePort = ports.find((candidate) => candidate.port === port);
  if (!servicePort) {
    const known = ports.map((candidate) => candidate.port).join(", ") || "none";
    throw new NoReadyEndpointError(`service ${label} has no port ${port} (ports: ${known})`);
  }

  const slices = await kube.listAll(
    `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
    { labelSelector: `${SERVICE_NAME_LABEL}=${service}` },
    signal,
  );

  let readyWithoutPod = 0;
  let notReady = 0;
  for (const slice of slices.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const slicePort = portOfSlice(slice, servicePort);
    if (slicePort === undefined) continue;
    for (const endpoint of (slice.endpoints ?? []) as SliceEndpoint[]) {
      // EndpointSlice API: an unset `ready` condition means ready.
      if (endpoint.conditions?.ready === false) {
        notReady += 1;
        continue;
      }
      if (endpoint.targetRef?.kind !== "Pod" || !endpoint.targetRef.name) {
        readyWithoutPod += 1;
        continue;
      }
      return {
        kind: "pod",
        endpoint: {
          namespace: endpoint.targetRef.namespace ?? namespace,
          pod: endpoint.targetRef.name,
          port: slicePort,
        },
      };
    }
  }

  if (readyWithoutPod > 0) {
    return {
      kind: "no-pod",
      reason: `the ready endpoints of service ${label} are not Pods`,
    };
  }
  const detail = notReady > 0 ? `${notReady} not ready` : "no endpoints in its EndpointSlices";
  throw new NoReadyEndpointError(
    `service ${label} has no ready endpoint for port ${port} (${detail})`,
  );
}

/** Returns the endpoint port a slice lists for the Service port, matched by port name. */
function portOfSlice(slice: KubeObject, servicePort: ServicePort): number | undefined {
  const ports: { name?: string; port?: number }[] = slice.ports ?? [];
  const expectedName = servicePort.name ?? "";
  const match = ports.find((candidate) => (candidate.name ?? "") === expectedName);
  if (match?.port !== undefined) return match.port;
  if (ports.length === 0 && typeof servicePort.targetPort === "number") {
    return servicePort.targetPort;
  }
  return undefined;
}
