/**
 * Targets for the endpoints the API server itself calls (webhooks, APIServices, CRD conversion
 * webhooks): a Service reference or a URL, trusted through a caBundle. Fields the API server would
 * reject become `INVALID_CLIENT_CONFIG` problems naming the field path, never endpoints.
 *
 * @module
 */
import type {
  EndpointTarget,
  MaterialTarget,
  ProblemTarget,
  Target,
  TargetContext,
  TrustSpec,
} from "../target.ts";
import { decodeBase64Field } from "./discoverer.ts";

/** Port the API server uses when a Service reference sets none. */
export const DEFAULT_SERVICE_PORT = 443;

/** Finding type of a clientConfig, Service reference, port or webhook field the API server rejects. */
export const INVALID_CLIENT_CONFIG = "INVALID_CLIENT_CONFIG";

/** Highest TCP port number. */
const MAX_PORT = 65_535;

/** Maximum length of a string value quoted in a message; longer strings are cut. */
const MAX_QUOTED_VALUE_CHARS = 64;

/** RFC 1123 label: the form of a namespace name. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** RFC 1035 label: the form of a Service name. */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A validated Service reference of a clientConfig or an APIService spec. */
export interface ServiceReference {
  namespace: string;
  name: string;
  port?: number;
}

/** A field that does not have the form the API server requires. */
export interface InvalidField {
  /** Path from the object's root, e.g. `webhooks[2].clientConfig.service.namespace`. */
  path: string;
  /** Reason and fix, e.g. `is missing; set the namespace of the Service`. */
  problem: string;
}

/** Returns the `INVALID_CLIENT_CONFIG` problem for one invalid field of the object `label` names. */
export function invalidFieldTarget(
  base: TargetContext,
  label: string,
  field: InvalidField,
): ProblemTarget {
  return {
    ...base,
    kind: "problem",
    findingType: INVALID_CLIENT_CONFIG,
    target: field.path,
    message: `${label}: ${field.path} ${field.problem}`,
  };
}

/**
 * Validates a Service reference as the API server does: namespace and name set (and valid DNS
 * labels, so the name can resolve), port an integer from 1 to 65535 when set, path starting with
 * `/` when set. Returns the reference, or every invalid field under `path`.
 */
export function parseServiceReference(
  value: unknown,
  path: string,
): { reference: ServiceReference } | { invalid: InvalidField[] } {
  if (!isObject(value)) {
    return {
      invalid: [{
        path,
        problem: `is ${describeValue(value)}; set an object with namespace, name and port`,
      }],
    };
  }
  const invalid: InvalidField[] = [];
  const namespace = checkLabel(value.namespace, `${path}.namespace`, DNS1123_LABEL, invalid, {
    what: "namespace",
    form: "a DNS-1123 label (lowercase letters, digits and '-')",
  });
  const name = checkLabel(value.name, `${path}.name`, DNS1035_LABEL, invalid, {
    what: "name",
    form: "a DNS-1035 label (lowercase letters, digits and '-', starting with a letter)",
  });
  const port = value.port;
  if (port !== undefined && port !== null && !isPortNumber(port)) {
    invalid.push({
      path: `${path}.port`,
      problem: `is ${describeValue(port)}; set an integer port from 1 to ${MAX_PORT} ` +
        `(${DEFAULT_SERVICE_PORT} when omitted)`,
    });
  }
  const servicePath = value.path;
  if (
    servicePath !== undefined && servicePath !== null &&
    (typeof servicePath !== "string" || !servicePath.startsWith("/"))
  ) {
    invalid.push({
      path: `${path}.path`,
      problem: `is ${describeValue(servicePath)}; set a URL path starting with "/" or remove it`,
    });
  }
  if (invalid.length > 0 || namespace === undefined || name === undefined) return { invalid };
  return { reference: isPortNumber(port) ? { namespace, name, port } : { namespace, name } };
}

/**
 * Validates a webhook `clientConfig` (admission or CRD conversion) at `path` and describes it: the
 * endpoint and caBundle targets, or one `INVALID_CLIENT_CONFIG` problem per invalid field plus the
 * caBundle targets, so a usable caBundle is still checked.
 */
export function clientConfigTargets(
  base: TargetContext,
  clientConfig: unknown,
  path: string,
  label: string,
): Target[] {
  if (!isObject(clientConfig)) {
    const problem = clientConfig === undefined || clientConfig === null
      ? "is missing"
      : `is ${describeValue(clientConfig)}`;
    return [invalidFieldTarget(base, label, {
      path,
      problem: `${problem}; set service (namespace, name, port) or an https url`,
    })];
  }

  const invalid: InvalidField[] = [];
  const caBundle = checkCaBundle(clientConfig.caBundle, `${path}.caBundle`, invalid);
  const { service, url } = clientConfig;
  const hasService = service !== undefined && service !== null;
  const hasUrl = url !== undefined && url !== null;
  let reference: ServiceReference | undefined;
  if (hasService && hasUrl) {
    invalid.push({ path, problem: "sets both service and url; keep exactly one" });
  } else if (!hasService && !hasUrl) {
    invalid.push({
      path,
      problem: "has neither service nor url; set service (namespace, name, port) or an https url",
    });
  } else if (hasService) {
    const parsed = parseServiceReference(service, `${path}.service`);
    if ("invalid" in parsed) invalid.push(...parsed.invalid);
    else reference = parsed.reference;
  } else if (typeof url !== "string") {
    invalid.push({ path: `${path}.url`, problem: `is ${describeValue(url)}; set an https URL` });
  }

  const bundleTargets = caBundleTargets(base, caBundle, label, reference);
  if (invalid.length > 0) {
    return [...invalid.map((field) => invalidFieldTarget(base, label, field)), ...bundleTargets];
  }
  const endpoint = reference
    ? serviceEndpointTarget(base, reference, caBundle, label)
    : urlEndpointTarget(base, url as string, caBundle, label, `${path}.url`);
  return [endpoint, ...bundleTargets];
}

/**
 * Validates an optional caBundle field: returns it when it is a string, and records it as invalid
 * otherwise. Its content is judged later, as material.
 */
export function checkCaBundle(
  value: unknown,
  path: string,
  invalid: InvalidField[],
): string | undefined {
  if (value === undefined || value === null || typeof value === "string") {
    return value ?? undefined;
  }
  invalid.push({
    path,
    problem: `is ${describeValue(value)}; set the base64-encoded PEM of the CA certificates ` +
      "that issued the serving certificate",
  });
  return undefined;
}

/** Names a JSON value's type and, for scalars, its value, cut to a short length. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    if (value === "") return "empty";
    const excerpt = value.length > MAX_QUOTED_VALUE_CHARS
      ? `${value.slice(0, MAX_QUOTED_VALUE_CHARS)}…`
      : value;
    return `the string ${JSON.stringify(excerpt)}`;
  }
  return String(value);
}

/** Tells whether a JSON value is an object (not a list, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPortNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_PORT;
}

function checkLabel(
  value: unknown,
  path: string,
  form: RegExp,
  invalid: InvalidField[],
  description: { what: string; form: string },
): string | undefined {
  if (typeof value === "string" && form.test(value)) return value;
  const problem = value === undefined || value === null || value === ""
    ? "is missing"
    : `is ${describeValue(value)}, not ${description.form}`;
  invalid.push({ path, problem: `${problem}; set the ${description.what} of the Service` });
  return undefined;
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

/**
 * Returns the target for a `clientConfig.url` at `path`, or an `INVALID_URL` problem when the API
 * server would reject it: not a URL, not https, or with user info, a query or a fragment.
 */
export function urlEndpointTarget(
  base: TargetContext,
  rawUrl: string,
  caBundle: string | undefined,
  label: string,
  path: string,
): EndpointTarget | ProblemTarget {
  const invalidUrl = (problem: string, shown: string): ProblemTarget => ({
    ...base,
    kind: "problem",
    findingType: "INVALID_URL",
    target: path,
    message: `${label}: ${path} "${shown}" ${problem}`,
  });
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return invalidUrl("is not a valid URL", rawUrl);
  }
  if (url.username || url.password) {
    // Print the URL without its credentials.
    const redacted = new URL(url);
    redacted.username = "";
    redacted.password = "";
    return invalidUrl("must not contain user info; remove it", redacted.href);
  }
  if (url.protocol !== "https:") return invalidUrl("must use https", rawUrl);
  if (url.search) return invalidUrl("must not contain a query; remove it", rawUrl);
  if (url.hash) return invalidUrl("must not contain a fragment; remove it", rawUrl);
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
