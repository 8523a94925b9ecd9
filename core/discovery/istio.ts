/**
 * Istio CA material in the control plane's namespace: the plug-in CA Secret `cacerts`, the
 * self-signed CA Secret `istio-ca-secret` that istiod writes when there is none, and the root
 * certificate ConfigMap `istio-ca-root-cert`. `ca-cert.pem` must chain to `root-cert.pem`
 * through `cert-chain.pem`. Keys that are empty, as istiod leaves `cert-chain.pem` of its
 * self-signed CA, are treated as absent. All of it is fail-closed.
 *
 * Workload certificates are short-lived and issued to proxies over SDS. They are not read by
 * design.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { MaterialTarget, Target, TargetContext } from "../target.ts";
import { configMapKey, ReadFailure, readFailureTarget, readObject, secretKey } from "./_objects.ts";
import {
  type Discoverer,
  type DiscoveryContext,
  isOutsideScope,
  requireKube,
} from "./discoverer.ts";

/** Secrets istiod reads its CA from: the plug-in CA first, then its self-signed CA. */
export const ISTIO_CA_SECRETS = ["cacerts", "istio-ca-secret"] as const;
/** ConfigMap with the root certificate that istiod publishes to workloads. */
export const ISTIO_ROOT_CONFIGMAP = "istio-ca-root-cert";

const CA_CERT_KEY = "ca-cert.pem";
const ROOT_CERT_KEY = "root-cert.pem";
const CERT_CHAIN_KEY = "cert-chain.pem";
const KEY_ROLES: Record<string, string> = {
  [CA_CERT_KEY]: "mesh CA",
  [ROOT_CERT_KEY]: "mesh root",
  [CERT_CHAIN_KEY]: "CA chain",
};

/** Yields the Istio CA certificates, roots and chains of the configured control plane. */
export class IstioDiscoverer implements Discoverer {
  readonly source = "mesh.istio" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const namespace = context.config.istioNamespace;
    if (isOutsideScope(context, namespace, "Istio")) return;

    const read = (resource: string, name: string) =>
      readObject(kube, "/api/v1", resource, namespace, name, context.signal);
    const [secrets, rootConfigMap] = await Promise.all([
      Promise.all(ISTIO_CA_SECRETS.map((name) => read("secrets", name))),
      read("configmaps", ISTIO_ROOT_CONFIGMAP),
    ]);

    const failures = [...secrets, rootConfigMap].filter((read) => read instanceof ReadFailure);
    if (failures.length === secrets.length + 1) {
      // Nothing of the surface could be read: a discovery error, as for a forbidden list.
      const messages = failures.map((failure) => failure.message).join("; ");
      throw new Error(`Istio namespace ${namespace}: ${messages}`);
    }

    for (const [index, secret] of secrets.entries()) {
      if (secret instanceof ReadFailure) {
        yield this.#readFailureTarget(namespace, ISTIO_CA_SECRETS[index], "secret", secret);
      } else if (secret !== "not-found") {
        yield* this.#secretTargets(secret);
      }
    }
    if (rootConfigMap instanceof ReadFailure) {
      yield this.#readFailureTarget(namespace, ISTIO_ROOT_CONFIGMAP, "configmap", rootConfigMap);
    } else if (rootConfigMap !== "not-found") {
      yield this.#rootConfigMapTarget(rootConfigMap);
    }
  }

  #readFailureTarget(
    namespace: string,
    name: string,
    resource: string,
    failure: ReadFailure,
  ): Target {
    const base: TargetContext = {
      source: this.source,
      namespace,
      name,
      failClosed: true,
    };
    const where = `Istio CA ${resource} ${namespace}/${name}`;
    return readFailureTarget(
      base,
      failure,
      where,
      resource === "secret" ? CA_CERT_KEY : ROOT_CERT_KEY,
    );
  }

  #base(object: KubeObject, resource: string): TargetContext {
    const { name, namespace } = object.metadata;
    return {
      source: this.source,
      namespace,
      name,
      failClosed: true,
      ref: { resource, namespace, name },
    };
  }

  #secretTargets(secret: KubeObject): Target[] {
    const base: TargetContext = {
      ...this.#base(secret, "secret"),
      secretRef: { namespace: secret.metadata.namespace!, name: secret.metadata.name },
    };
    const label = `secret ${secret.metadata.namespace}/${secret.metadata.name}`;
    const targets: Target[] = [];
    const read = new Map<string, Uint8Array>();

    for (const key of [CA_CERT_KEY, ROOT_CERT_KEY, CERT_CHAIN_KEY]) {
      const bytes = secretKey(secret, key);
      if (bytes === undefined) continue;
      if (bytes === "invalid") {
        targets.push({
          ...base,
          kind: "problem",
          findingType: "CERT_UNREADABLE",
          target: key,
          message: `${label}: ${key} is not valid base64`,
        });
        continue;
      }
      read.set(key, bytes);
    }
    if (read.size === 0 && targets.length === 0) {
      return [{
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: CA_CERT_KEY,
        message:
          `${label}: ${CA_CERT_KEY} and ${ROOT_CERT_KEY} are missing or empty; istiod has no CA`,
      }];
    }

    for (const [key, bytes] of read) {
      const target: MaterialTarget = {
        ...base,
        kind: "material",
        objectLabel: label,
        key,
        bytes,
        notes: [KEY_ROLES[key]],
      };
      const root = read.get(ROOT_CERT_KEY);
      if (key === CA_CERT_KEY && root) {
        target.leafOnly = true;
        target.chainTo = {
          anchors: root,
          intermediates: read.get(CERT_CHAIN_KEY),
          origin: `${ROOT_CERT_KEY} of ${label}`,
        };
      }
      targets.push(target);
    }
    return targets;
  }

  #rootConfigMapTarget(configMap: KubeObject): Target {
    const base = this.#base(configMap, "configmap");
    const label = `configmap ${configMap.metadata.namespace}/${configMap.metadata.name}`;
    const bytes = configMapKey(configMap, ROOT_CERT_KEY);
    if (!bytes) {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: ROOT_CERT_KEY,
        message: `${label}: ${ROOT_CERT_KEY} is missing or empty; workloads have no mesh root`,
      };
    }
    return {
      ...base,
      kind: "material",
      objectLabel: label,
      key: ROOT_CERT_KEY,
      bytes,
      notes: ["mesh root"],
    };
  }
}
