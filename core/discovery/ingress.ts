/**
 * Ingress TLS: the Secret each `spec.tls[]` entry names, with its hosts checked against the
 * certificate's SANs. When the Ingress publishes load-balancer addresses in its status, each is
 * also probed with the entry's first host as SNI, with the stored certificate attached, so an
 * ingress controller that serves an older certificate is reported.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { EndpointTarget, MaterialTarget, Target, TargetContext } from "../target.ts";
import { ReadFailure, readFailureTarget, secretKey, SecretReader } from "./_objects.ts";
import {
  type Discoverer,
  type DiscoveryContext,
  listNamespaced,
  requireKube,
} from "./discoverer.ts";
import { CA_CERTIFICATE_KEY, CERTIFICATE_KEY } from "./tls_secrets.ts";

/** Yields the serving certificate of every Ingress TLS entry, or the reason it has none. */
export class IngressDiscoverer implements Discoverer {
  readonly source = "k8s.ingressTLS" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const secrets = new SecretReader(kube, context.signal);
    const pages = listNamespaced(context, this.source, "/apis/networking.k8s.io/v1", "ingresses");
    for await (const page of pages) {
      for (const ingress of page) {
        for (const entry of ingress.spec?.tls ?? []) {
          if (!entry.secretName) continue;
          yield* await this.#targetsOf(ingress, entry, secrets);
        }
      }
    }
  }

  async #targetsOf(
    ingress: KubeObject,
    entry: { hosts?: string[]; secretName: string },
    secrets: SecretReader,
  ): Promise<Target[]> {
    const target = await this.#storedTarget(ingress, entry, secrets);
    if (target.kind !== "material") return [target];

    const {
      kind: _kind,
      objectLabel: _objectLabel,
      key: _key,
      bytes,
      anchors: _anchors,
      expectedNames: _expectedNames,
      leafOnly: _leafOnly,
      ...context
    } = target;
    const servedName = (entry.hosts ?? []).find((host) => !host.startsWith("*"));
    const served: EndpointTarget[] = loadBalancerAddresses(ingress).map((address) => ({
      ...context,
      kind: "endpoint",
      endpoint: { host: address.host, port: address.port, sni: servedName ?? "" },
      expectedNames: servedName ? [servedName] : [],
      // The stored certificate's chain is checked on the material finding; the served one is
      // compared with it and checked for names.
      trust: { kind: "unknown" },
      storedCertificate: bytes,
    }));
    return [target, ...served];
  }

  async #storedTarget(
    ingress: KubeObject,
    entry: { hosts?: string[]; secretName: string },
    secrets: SecretReader,
  ): Promise<Target> {
    const { name, namespace } = ingress.metadata;
    const hosts = entry.hosts ?? [];
    const base: TargetContext = {
      source: this.source,
      namespace,
      name,
      failClosed: false,
      notes: [
        `secret=${entry.secretName}`,
        ...(hosts.length > 0 ? [`hosts=${hosts.join(",")}`] : []),
      ],
      ref: { resource: "ingress", namespace, name },
      secretRef: { namespace: namespace!, name: entry.secretName },
    };
    const secretLabel = `secret ${namespace}/${entry.secretName}`;
    const where = `ingress ${namespace}/${name}`;
    const secretRef = { resource: "secret", namespace, name: entry.secretName };
    const lookup = await secrets.get(namespace!, entry.secretName);
    if (lookup === "not-found") {
      return {
        ...base,
        kind: "problem",
        findingType: "SECRET_NOT_FOUND",
        target: entry.secretName,
        message: `${where}: ${secretLabel} not found`,
        ref: secretRef,
      };
    }
    if (lookup instanceof ReadFailure) {
      return readFailureTarget(base, lookup, where, entry.secretName);
    }

    const bytes = secretKey(lookup, CERTIFICATE_KEY);
    if (bytes === undefined) {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: entry.secretName,
        message: `${where}: ${secretLabel} has no tls.crt`,
      };
    }
    if (bytes === "invalid") {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_UNREADABLE",
        target: CERTIFICATE_KEY,
        message: `${where}: tls.crt of ${secretLabel} is not valid base64; re-create the ` +
          "Secret with kubectl create secret tls",
        ref: secretRef,
      };
    }
    const anchors = secretKey(lookup, CA_CERTIFICATE_KEY);
    const target: MaterialTarget = {
      ...base,
      kind: "material",
      objectLabel: secretLabel,
      key: CERTIFICATE_KEY,
      bytes,
      anchors: anchors instanceof Uint8Array ? anchors : undefined,
      expectedNames: hosts,
      leafOnly: true,
    };
    if (anchors === "invalid") {
      target.notes = [...base.notes!, "ca.crt is not valid base64: chain checked without it"];
    }
    return target;
  }
}

/** Port an ingress controller serves TLS on when the status names no ports. */
export const DEFAULT_INGRESS_TLS_PORT = 443;

/** Returns the addresses in `status.loadBalancer.ingress[]`, each with its TCP port or 443. */
function loadBalancerAddresses(ingress: KubeObject): { host: string; port: number }[] {
  const entries: unknown = ingress.status?.loadBalancer?.ingress;
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry) => {
    const host = typeof entry?.ip === "string" && entry.ip !== ""
      ? entry.ip
      : typeof entry?.hostname === "string" && entry.hostname !== ""
      ? entry.hostname
      : undefined;
    if (!host) return [];
    const ports: number[] = Array.isArray(entry.ports)
      ? entry.ports
        .filter((port: { protocol?: string }) => (port?.protocol ?? "TCP") === "TCP")
        .map((port: { port?: unknown }) => port?.port)
        .filter((port: unknown): port is number =>
          Number.isInteger(port) && (port as number) > 0 && (port as number) <= 65_535
        )
      : [];
    const selected = ports.length > 0 ? ports : [DEFAULT_INGRESS_TLS_PORT];
    return selected.map((port) => ({ host, port }));
  });
}
