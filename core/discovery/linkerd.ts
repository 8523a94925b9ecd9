/**
 * Linkerd identity: the trust roots in ConfigMap `linkerd-identity-trust-roots` (`ca-bundle.crt`)
 * and the identity issuer in Secret `linkerd-identity-issuer` (`crt.pem`, or `tls.crt` when
 * cert-manager writes it), in the control plane's namespace. Every anchor of the bundle is
 * reported, and the issuer must chain to one of them. Both are fail-closed: when they expire or
 * do not chain, proxies cannot get or verify identities.
 *
 * Workload certificates are short-lived, held in proxy memory, and renewed by the identity
 * controller. They are not read by design.
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

/** ConfigMap that contains the trust anchors. */
export const LINKERD_TRUST_ROOTS_CONFIGMAP = "linkerd-identity-trust-roots";
/** Key of the trust anchors in the ConfigMap. */
export const LINKERD_TRUST_ROOTS_KEY = "ca-bundle.crt";
/** Secret that contains the identity issuer certificate. */
export const LINKERD_ISSUER_SECRET = "linkerd-identity-issuer";
/** Issuer certificate keys, in the order they are tried: Linkerd's own scheme, then kubernetes.io/tls. */
export const LINKERD_ISSUER_KEYS = ["crt.pem", "tls.crt"] as const;

/** Yields the Linkerd trust anchors and identity issuer of the configured control plane. */
export class LinkerdDiscoverer implements Discoverer {
  readonly source = "mesh.linkerd" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const namespace = context.config.linkerdNamespace;
    if (isOutsideScope(context, namespace, "Linkerd")) return;

    const [roots, issuer] = await Promise.all([
      readObject(
        kube,
        "/api/v1",
        "configmaps",
        namespace,
        LINKERD_TRUST_ROOTS_CONFIGMAP,
        context.signal,
      ),
      readObject(kube, "/api/v1", "secrets", namespace, LINKERD_ISSUER_SECRET, context.signal),
    ]);
    if (roots === "not-found" && issuer === "not-found") {
      context.logger.debug("no Linkerd identity objects in namespace {namespace}", { namespace });
      return;
    }

    if (roots instanceof ReadFailure && issuer instanceof ReadFailure) {
      // Nothing of the surface could be read: a discovery error, as for a forbidden list.
      throw new Error(`Linkerd namespace ${namespace}: ${roots.message}; ${issuer.message}`);
    }

    let rootsBytes: Uint8Array | undefined;
    if (roots instanceof ReadFailure) {
      const base = this.#base(namespace, LINKERD_TRUST_ROOTS_CONFIGMAP, "configmap");
      const where = `Linkerd trust anchors in namespace ${namespace}`;
      yield readFailureTarget(base, roots, where, LINKERD_TRUST_ROOTS_KEY);
    } else if (roots !== "not-found") {
      rootsBytes = configMapKey(roots, LINKERD_TRUST_ROOTS_KEY);
      yield this.#rootsTarget(namespace, rootsBytes);
    }

    if (issuer instanceof ReadFailure) {
      const base = this.#base(namespace, LINKERD_ISSUER_SECRET, "secret");
      const where = `Linkerd identity issuer in namespace ${namespace}`;
      yield readFailureTarget(base, issuer, where, LINKERD_ISSUER_KEYS.join(" or "));
    } else if (issuer !== "not-found") {
      yield this.#issuerTarget(namespace, issuer, rootsBytes, context);
    }
  }

  #base(namespace: string, name: string, resource: string): TargetContext {
    return {
      source: this.source,
      namespace,
      name,
      failClosed: true,
      ref: { resource, namespace, name },
    };
  }

  #rootsTarget(namespace: string, bytes: Uint8Array | undefined): Target {
    const base = this.#base(namespace, LINKERD_TRUST_ROOTS_CONFIGMAP, "configmap");
    const label = `configmap ${namespace}/${LINKERD_TRUST_ROOTS_CONFIGMAP}`;
    if (!bytes) {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: LINKERD_TRUST_ROOTS_KEY,
        message:
          `${label}: ${LINKERD_TRUST_ROOTS_KEY} is missing or empty; proxies have no trust anchor`,
      };
    }
    return {
      ...base,
      kind: "material",
      objectLabel: label,
      key: LINKERD_TRUST_ROOTS_KEY,
      bytes,
      notes: ["trust anchors"],
    };
  }

  #issuerTarget(
    namespace: string,
    secret: KubeObject,
    roots: Uint8Array | undefined,
    context: DiscoveryContext,
  ): Target {
    const base: TargetContext = {
      ...this.#base(namespace, LINKERD_ISSUER_SECRET, "secret"),
      secretRef: { namespace, name: LINKERD_ISSUER_SECRET },
    };
    const label = `secret ${namespace}/${LINKERD_ISSUER_SECRET}`;
    for (const key of LINKERD_ISSUER_KEYS) {
      const bytes = secretKey(secret, key);
      if (bytes === undefined) continue;
      if (bytes === "invalid") {
        return {
          ...base,
          kind: "problem",
          findingType: "CERT_UNREADABLE",
          target: key,
          message: `${label}: ${key} is not valid base64`,
        };
      }
      const target: MaterialTarget = {
        ...base,
        kind: "material",
        objectLabel: label,
        key,
        bytes,
        notes: ["identity issuer"],
      };
      if (roots) {
        target.chainTo = {
          anchors: roots,
          origin: `the trust anchors in configmap ${namespace}/${LINKERD_TRUST_ROOTS_CONFIGMAP}`,
        };
      } else {
        context.logger.warn(
          "Linkerd issuer {secret} found without trust anchors; its chain is not verified",
          { secret: `${namespace}/${LINKERD_ISSUER_SECRET}` },
        );
        target.notes = [...target.notes!, "no trust anchors found: chain not verified"];
      }
      return target;
    }
    return {
      ...base,
      kind: "problem",
      findingType: "CERT_MISSING",
      target: LINKERD_ISSUER_KEYS.join(" or "),
      message: `${label}: neither ${
        LINKERD_ISSUER_KEYS.join(" nor ")
      } contains a certificate; re-create the issuer Secret`,
    };
  }
}
