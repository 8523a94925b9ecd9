/**
 * Gateway API: the Secrets that `listeners[].tls.certificateRefs` of every Gateway name, with the
 * listener hostname checked against the certificate's SANs. A reference into another namespace
 * needs a ReferenceGrant there that allows it, as the Gateway controller requires. When the
 * Gateway publishes `status.addresses`, each TLS listener is also probed there, with the stored
 * certificate attached so a listener that serves an older certificate is reported.
 *
 * Clusters without the Gateway API CRDs are skipped without an error.
 *
 * @module
 */
import { isNotServed, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import {
  type ObjectRead,
  ReadFailure,
  readFailureOf,
  readFailureTarget,
  secretKey,
  SecretReader,
} from "./_objects.ts";
import {
  type Discoverer,
  type DiscoveryContext,
  listNamespaced,
  requireKube,
} from "./discoverer.ts";

/** API group of the Gateway API. */
export const GATEWAY_GROUP = "gateway.networking.k8s.io";
/** Versions tried in order, so clusters with only the beta CRDs are read too. */
export const GATEWAY_VERSIONS = ["v1", "v1beta1"] as const;

interface CertificateRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol?: string;
  tls?: { mode?: string; certificateRefs?: CertificateRef[] };
}

interface ReferenceGrant {
  spec?: {
    from?: { group?: string; kind?: string; namespace?: string }[];
    to?: { group?: string; kind?: string; name?: string }[];
  };
}

/** Yields the certificate of every TLS listener of every Gateway, or why it has none. */
export class GatewayDiscoverer implements Discoverer {
  readonly source = "k8s.gateway" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const lookups = new Lookups(kube, context.signal);
    for await (const gateway of listGateways(context)) {
      for (const listener of (gateway.spec?.listeners ?? []) as Listener[]) {
        if (!listener.tls || listener.tls.mode === "Passthrough") continue;
        for (const ref of listener.tls.certificateRefs ?? []) {
          yield* await this.#targetsOf(gateway, listener, ref, lookups);
        }
      }
    }
  }

  async #targetsOf(
    gateway: KubeObject,
    listener: Listener,
    ref: CertificateRef,
    lookups: Lookups,
  ): Promise<Target[]> {
    const namespace = gateway.metadata.namespace!;
    const secretNamespace = ref.namespace ?? namespace;
    const where = `gateway ${namespace}/${gateway.metadata.name}, listener ${listener.name}`;
    const base: TargetContext = {
      source: this.source,
      namespace,
      name: `${gateway.metadata.name}/${listener.name}`,
      failClosed: false,
      notes: [
        `secret=${secretNamespace}/${ref.name}`,
        ...(listener.hostname ? [`hostname=${listener.hostname}`] : []),
      ],
      ref: { resource: "gateway", namespace, name: gateway.metadata.name },
    };
    const problem = (findingType: string, message: string): Target[] => [{
      ...base,
      kind: "problem",
      findingType,
      target: `${secretNamespace}/${ref.name}`,
      message,
    }];

    const group = ref.group ?? "";
    const kind = ref.kind ?? "Secret";
    if (group !== "" || kind !== "Secret") {
      return problem(
        "REF_INVALID",
        `${where}: certificateRef ${ref.name} has group "${group}" and kind "${kind}"; ` +
          'only core Secrets (group "", kind Secret) are supported',
      );
    }
    if (secretNamespace !== namespace) {
      const permitted = await lookups.permits(namespace, secretNamespace, ref.name);
      if (permitted instanceof ReadFailure) {
        return [readFailureTarget(base, permitted, where, `${secretNamespace}/${ref.name}`)];
      }
      if (!permitted) {
        return problem(
          "REF_NOT_PERMITTED",
          `${where}: certificateRef to secret ${secretNamespace}/${ref.name} is not allowed by ` +
            `any ReferenceGrant in namespace ${secretNamespace}`,
        );
      }
    }

    const secret = await lookups.secret(secretNamespace, ref.name);
    const label = `secret ${secretNamespace}/${ref.name}`;
    if (secret === "not-found") return problem("SECRET_NOT_FOUND", `${where}: ${label} not found`);
    if (secret instanceof ReadFailure) {
      return [readFailureTarget(base, secret, where, `${secretNamespace}/${ref.name}`)];
    }
    const bytes = secretKey(secret, "tls.crt");
    if (bytes === undefined) return problem("CERT_MISSING", `${where}: ${label} has no tls.crt`);
    if (bytes === "invalid") {
      return problem("CERT_UNREADABLE", `${where}: tls.crt of ${label} is not valid base64`);
    }

    const withSecret: TargetContext = {
      ...base,
      secretRef: { namespace: secretNamespace, name: ref.name },
    };
    const expectedNames = listener.hostname ? [listener.hostname] : [];
    const targets: Target[] = [{
      ...withSecret,
      kind: "material",
      objectLabel: label,
      key: "tls.crt",
      bytes,
      expectedNames,
      leafOnly: true,
    }];
    const servedName = listener.hostname && !listener.hostname.startsWith("*")
      ? listener.hostname
      : undefined;
    for (const address of gatewayAddresses(gateway)) {
      targets.push({
        ...withSecret,
        kind: "endpoint",
        endpoint: { host: address, port: listener.port, sni: servedName ?? "" },
        expectedNames: servedName ? [servedName] : [],
        trust: { kind: "unknown" },
        storedCertificate: bytes,
      });
    }
    return targets;
  }
}

/** Lists Gateways of the first served version; yields nothing when none is served. */
async function* listGateways(
  context: DiscoveryContext,
): AsyncGenerator<KubeObject> {
  for (const version of GATEWAY_VERSIONS) {
    try {
      const prefix = `/apis/${GATEWAY_GROUP}/${version}`;
      for await (const page of listNamespaced(context, "k8s.gateway", prefix, "gateways")) {
        yield* page;
      }
      return;
    } catch (error) {
      if (!isNotServed(error)) throw error;
    }
  }
  context.logger.debug("Gateway API not served by this cluster; skipped");
}

function gatewayAddresses(gateway: KubeObject): string[] {
  const addresses: unknown = gateway.status?.addresses;
  if (!Array.isArray(addresses)) return [];
  return addresses
    .map((address) => address?.value)
    .filter((value): value is string => typeof value === "string" && value !== "");
}

/** Secret and ReferenceGrant reads of one scan, each fetched once. */
class Lookups {
  #kube: KubeClient;
  #signal: AbortSignal;
  #secrets: SecretReader;
  #grants = new Map<string, Promise<ReferenceGrant[] | ReadFailure>>();

  constructor(kube: KubeClient, signal: AbortSignal) {
    this.#kube = kube;
    this.#signal = signal;
    this.#secrets = new SecretReader(kube, signal);
  }

  secret(namespace: string, name: string): Promise<ObjectRead> {
    return this.#secrets.get(namespace, name);
  }

  /**
   * Returns whether a ReferenceGrant in `secretNamespace` lets Gateways of `from` use the Secret,
   * or why the ReferenceGrants there could not be listed.
   */
  async permits(
    from: string,
    secretNamespace: string,
    secretName: string,
  ): Promise<boolean | ReadFailure> {
    let entry = this.#grants.get(secretNamespace);
    if (!entry) {
      entry = this.#listGrants(secretNamespace);
      this.#grants.set(secretNamespace, entry);
    }
    const grants = await entry;
    if (grants instanceof ReadFailure) return grants;
    return grants.some((grant) =>
      (grant.spec?.from ?? []).some((source) =>
        source.group === GATEWAY_GROUP && source.kind === "Gateway" && source.namespace === from
      ) &&
      (grant.spec?.to ?? []).some((to) =>
        (to.group ?? "") === "" && to.kind === "Secret" && (!to.name || to.name === secretName)
      )
    );
  }

  async #listGrants(namespace: string): Promise<ReferenceGrant[] | ReadFailure> {
    for (const version of GATEWAY_VERSIONS) {
      const prefix = `/apis/${GATEWAY_GROUP}/${version}`;
      const path = `${prefix}/namespaces/${encodeURIComponent(namespace)}/referencegrants`;
      try {
        return await this.#kube.listAll(path, {}, this.#signal) as ReferenceGrant[];
      } catch (error) {
        if (isNotServed(error)) continue;
        const request = { verb: "list", prefix, resource: "referencegrants", namespace } as const;
        return readFailureOf(error, request, this.#signal);
      }
    }
    return [];
  }
}
