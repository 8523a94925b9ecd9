/**
 * TLS Secrets: `kubernetes.io/tls` Secrets, and Opaque Secrets that carry `tls.crt` or `ca.crt`.
 *
 * Secrets are listed page by page with a server-side `type` field selector, so Helm release
 * Secrets and other bulk never reach trustwatch, and each page is turned into targets before the
 * next is fetched. Only certificate keys are read: `tls.key` never leaves the API response.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import {
  decodeBase64Field,
  type Discoverer,
  type DiscoveryContext,
  listNamespaced,
} from "./discoverer.ts";

/** Secret types read, each with its own field-selected list. */
export const TLS_SECRET_TYPES = ["kubernetes.io/tls", "Opaque"] as const;

/** Secret keys that hold certificates. */
export const CERTIFICATE_KEY = "tls.crt";
export const CA_CERTIFICATE_KEY = "ca.crt";

/** Yields a material target per certificate key of every TLS Secret. */
export class TlsSecretDiscoverer implements Discoverer {
  readonly source = "k8s.tlsSecret" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    for (const type of TLS_SECRET_TYPES) {
      const query = { fieldSelector: `type=${type}` };
      const pages = listNamespaced(context, this.source, "/api/v1", "secrets", query);
      for await (const page of pages) {
        for (const secret of page) yield* secretTargets(secret, this.source);
      }
    }
  }
}

/** Returns the targets of one Secret: `tls.crt` (chained to `ca.crt`) and `ca.crt`. */
export function secretTargets(secret: KubeObject, source: TargetContext["source"]): Target[] {
  const data: Record<string, string> = secret.data ?? {};
  const hasCertificate = Boolean(data[CERTIFICATE_KEY]);
  const hasCa = Boolean(data[CA_CERTIFICATE_KEY]);
  const isTlsType = secret.type === "kubernetes.io/tls";
  if (!isTlsType && !hasCertificate && !hasCa) return [];

  const { name, namespace } = secret.metadata;
  const objectLabel = `secret ${namespace}/${name}`;
  const base: TargetContext = {
    source,
    namespace,
    name,
    failClosed: false,
    ref: { resource: "secret", namespace, name },
  };
  const targets: Target[] = [];
  const caBytes = hasCa ? decodeOrUndefined(data[CA_CERTIFICATE_KEY]) : undefined;

  if (hasCertificate) {
    targets.push(
      materialOrProblem(base, objectLabel, CERTIFICATE_KEY, data[CERTIFICATE_KEY], caBytes),
    );
  }
  if (hasCa) {
    targets.push(
      materialOrProblem(base, objectLabel, CA_CERTIFICATE_KEY, data[CA_CERTIFICATE_KEY]),
    );
  }
  if (!hasCertificate && !hasCa) {
    targets.push({
      ...base,
      kind: "problem",
      findingType: "CERT_MISSING",
      target: CERTIFICATE_KEY,
      message:
        `${objectLabel}: tls.crt is empty and there is no ca.crt; the Secret holds no certificate`,
    });
  }
  return targets;
}

function decodeOrUndefined(value: string): Uint8Array | undefined {
  try {
    return decodeBase64Field(value);
  } catch {
    return undefined;
  }
}

function materialOrProblem(
  base: TargetContext,
  objectLabel: string,
  key: string,
  value: string,
  anchors?: Uint8Array,
): Target {
  try {
    return {
      ...base,
      kind: "material",
      objectLabel,
      key,
      bytes: decodeBase64Field(value),
      anchors,
    };
  } catch {
    return {
      ...base,
      kind: "problem",
      findingType: "CERT_UNREADABLE",
      target: key,
      message:
        `${objectLabel}: ${key} is not valid base64; re-create the Secret with kubectl create secret tls`,
    };
  }
}
