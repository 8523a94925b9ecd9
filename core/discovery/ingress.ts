/**
 * Ingress TLS: the Secret each `spec.tls[]` entry names, with its hosts checked against the
 * certificate's SANs.
 *
 * @module
 */
import { isForbidden, isNotServed, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import {
  decodeBase64Field,
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
    const secrets = new SecretCache(kube, context.signal);
    const pages = listNamespaced(context, this.source, "/apis/networking.k8s.io/v1", "ingresses");
    for await (const page of pages) {
      for (const ingress of page) {
        for (const entry of ingress.spec?.tls ?? []) {
          if (!entry.secretName) continue;
          yield await this.#targetOf(ingress, entry, secrets);
        }
      }
    }
  }

  async #targetOf(
    ingress: KubeObject,
    entry: { hosts?: string[]; secretName: string },
    secrets: SecretCache,
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
    };
    const secretLabel = `secret ${namespace}/${entry.secretName}`;
    const lookup = await secrets.get(namespace!, entry.secretName);
    if (lookup === "not-found") {
      return {
        ...base,
        kind: "problem",
        findingType: "SECRET_NOT_FOUND",
        target: entry.secretName,
        message: `ingress ${namespace}/${name}: ${secretLabel} not found`,
        ref: { resource: "secret", namespace, name: entry.secretName },
      };
    }
    const encoded = lookup.data?.[CERTIFICATE_KEY];
    if (!encoded) {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: entry.secretName,
        message: `ingress ${namespace}/${name}: ${secretLabel} has no tls.crt`,
      };
    }
    const caEncoded = lookup.data?.[CA_CERTIFICATE_KEY];
    return {
      ...base,
      kind: "material",
      objectLabel: secretLabel,
      key: CERTIFICATE_KEY,
      bytes: decodeBase64Field(encoded),
      anchors: caEncoded ? decodeBase64Field(caEncoded) : undefined,
      expectedNames: hosts,
      leafOnly: true,
    };
  }
}

/** Secret GETs for one scan, so several Ingresses naming one Secret cost one request. */
class SecretCache {
  #kube: KubeClient;
  #signal: AbortSignal;
  #entries = new Map<string, Promise<KubeObject | "not-found">>();

  constructor(kube: KubeClient, signal: AbortSignal) {
    this.#kube = kube;
    this.#signal = signal;
  }

  get(namespace: string, name: string): Promise<KubeObject | "not-found"> {
    const key = `${namespace}/${name}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.#fetch(namespace, name);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  async #fetch(namespace: string, name: string): Promise<KubeObject | "not-found"> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${
      encodeURIComponent(name)
    }`;
    try {
      return await this.#kube.get<KubeObject>(path, this.#signal);
    } catch (error) {
      if (isNotServed(error)) return "not-found";
      if (isForbidden(error)) {
        throw new Error(`cannot read secret ${namespace}/${name}: ${(error as Error).message}`);
      }
      throw error;
    }
  }
}
