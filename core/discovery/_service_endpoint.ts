/**
 * Targets for the endpoints the API server itself calls (webhooks, APIServices): a Service
 * reference or a URL, trusted through a caBundle.
 *
 * @module
 */
import type {
  EndpointTarget,
  MaterialTarget,
  ProblemTarget,
  TargetContext,
  TrustSpec,
} from "../target.ts";
import { decodeBase64Field } from "./discoverer.ts";

/** Port the API server uses when a Service reference sets none. */
export const DEFAULT_SERVICE_PORT = 443;

interface ServiceReference {
  namespace: string;
  name: string;
  port?: number;
}

/** Returns the trust the API server applies: the caBundle, or the system roots without one. */
export function caBundleTrust(caBundle: string | undefined, label: string): TrustSpec {
  if (!caBundle) return { kind: "system" };
  try {
    return {
      kind: "anchors",
      pem: decodeBase64Field(caBundle),
      origin: `caBundle of ${label}`,
      caBundle: true,
    };
  } catch {
    return {
      kind: "invalid",
      origin: `caBundle of ${label}`,
      message: "caBundle is not valid base64",
    };
  }
}

/** Returns the target for `<service>.<namespace>.svc:<port>`, the name the API server dials. */
export function serviceEndpointTarget(
  base: TargetContext,
  service: ServiceReference,
  caBundle: string | undefined,
  label: string,
): EndpointTarget {
  const host = `${service.name}.${service.namespace}.svc`;
  return {
    ...base,
    kind: "endpoint",
    namespace: service.namespace,
    endpoint: { host, port: service.port ?? DEFAULT_SERVICE_PORT, sni: host },
    expectedNames: [host],
    trust: caBundleTrust(caBundle, label),
    notes: [...base.notes ?? [], `service=${service.namespace}/${service.name}`],
  };
}

/** Returns the target for a `clientConfig.url`, or a problem when the URL is unusable. */
export function urlEndpointTarget(
  base: TargetContext,
  rawUrl: string,
  caBundle: string | undefined,
  label: string,
): EndpointTarget | ProblemTarget {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return {
      ...base,
      kind: "problem",
      findingType: "INVALID_URL",
      message: `${label}: clientConfig.url "${rawUrl}" is not a valid URL`,
    };
  }
  if (url.protocol !== "https:") {
    return {
      ...base,
      kind: "problem",
      findingType: "INVALID_URL",
      message: `${label}: clientConfig.url "${rawUrl}" must use https`,
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return {
    ...base,
    kind: "endpoint",
    endpoint: { host, port: Number(url.port || DEFAULT_SERVICE_PORT) },
    expectedNames: [host],
    trust: caBundleTrust(caBundle, label),
    notes: [...base.notes ?? [], `url=${rawUrl}`],
  };
}

/** Returns a material target for the certificates in a caBundle, so their expiry is reported. */
export function caBundleTargets(
  base: TargetContext,
  caBundle: string | undefined,
  label: string,
  service?: ServiceReference,
): MaterialTarget[] {
  const trust = caBundleTrust(caBundle, label);
  if (trust.kind === "system") return [];
  base = { ...base, namespace: base.namespace ?? service?.namespace };
  if (trust.kind === "invalid") {
    return [{
      ...base,
      kind: "material",
      objectLabel: label,
      key: "caBundle",
      bytes: new TextEncoder().encode(caBundle ?? ""),
      caBundle: true,
    }];
  }
  if (trust.kind !== "anchors") return [];
  return [{
    ...base,
    kind: "material",
    objectLabel: label,
    key: "caBundle",
    bytes: trust.pem,
    caBundle: true,
  }];
}
