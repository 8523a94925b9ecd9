/**
 * Annotated workloads: Services and Deployments that opt in with `trustwatch.dev/enabled: "true"`.
 *
 * | annotation | value |
 * |---|---|
 * | `trustwatch.dev/enabled` | `"true"` to check the object, `"false"` to ignore it |
 * | `trustwatch.dev/ports` | comma-separated port numbers or names to probe |
 * | `trustwatch.dev/sni` | server name to send and to check the certificate against |
 * | `trustwatch.dev/severity` | `critical`, `warn` or `info`: the severity of any problem |
 * | `trustwatch.dev/tls-secret` | Secret in the same namespace that the workload serves |
 * | `trustwatch.dev/external-targets` | `https://host[:port]` or `tcp://host:port[?sni=name]`, one per line |
 *
 * A Service is probed at `<name>.<namespace>.svc` (or its `externalName`); a Deployment at the IP
 * of each running pod. With `tls-secret`, the Secret's certificate is reported too and every probe
 * is compared with it, so a workload that did not reload a rotated certificate is found. Invalid
 * values, unknown `trustwatch.dev/` keys and a missing `enabled` are findings that name the
 * object and the annotation. The rest of the object is still checked where possible.
 *
 * @module
 */
import { SEVERITIES, type Severity } from "../model.ts";
import { isForbidden, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { EndpointTarget, Target, TargetContext, TrustSpec } from "../target.ts";
import {
  type ObjectRead,
  ReadFailure,
  readFailureTarget,
  readObject,
  secretKey,
} from "./_objects.ts";
import {
  type Discoverer,
  type DiscoveryContext,
  listNamespaced,
  requireKube,
} from "./discoverer.ts";
import { externalTarget } from "./external.ts";

/** Prefix of every trustwatch annotation. */
export const ANNOTATION_PREFIX = "trustwatch.dev/";
/** The annotations trustwatch reads. */
export const ANNOTATIONS = {
  enabled: "trustwatch.dev/enabled",
  ports: "trustwatch.dev/ports",
  sni: "trustwatch.dev/sni",
  severity: "trustwatch.dev/severity",
  tlsSecret: "trustwatch.dev/tls-secret",
  externalTargets: "trustwatch.dev/external-targets",
} as const;
/** Port probed on a Service or pod when `trustwatch.dev/ports` is not set and no port is named for TLS. */
export const DEFAULT_TLS_PORT = 443;

const KNOWN_ANNOTATIONS = new Set<string>(Object.values(ANNOTATIONS));
const TLS_PORT_NAME = /https|tls/i;
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

interface PortSpec {
  /** Port number, or name to resolve. */
  value: number | string;
  raw: string;
}

interface Invalid {
  annotation: string;
  message: string;
}

/** An annotated object, read and validated. */
interface Settings {
  severity?: Severity;
  sni?: string;
  ports?: PortSpec[];
  tlsSecret?: string;
  externalTargets: string[];
}

/** Yields endpoint, Secret and external targets of every annotated Service and Deployment. */
export class AnnotationDiscoverer implements Discoverer {
  readonly source = "annotation" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    for (const kind of ["service", "deployment"] as const) {
      const prefix = kind === "service" ? "/api/v1" : "/apis/apps/v1";
      for await (const page of listNamespaced(context, this.source, prefix, `${kind}s`)) {
        for (const object of page) {
          if (!hasTrustwatchAnnotation(object)) continue;
          yield* await this.#targetsOf(object, kind, kube, context);
        }
      }
    }
  }

  async #targetsOf(
    object: KubeObject,
    kind: "service" | "deployment",
    kube: KubeClient,
    context: DiscoveryContext,
  ): Promise<Target[]> {
    const { name } = object.metadata;
    const namespace = object.metadata.namespace!;
    const label = `${kind} ${namespace}/${name}`;
    const annotations = object.metadata.annotations ?? {};
    const invalid: Invalid[] = [];
    const base: TargetContext = {
      source: this.source,
      namespace,
      name,
      failClosed: false,
      notes: [kind],
      ref: { resource: kind, namespace, name },
    };
    const problems = () => invalid.map((entry) => invalidTarget(base, label, entry));

    const enabled = annotations[ANNOTATIONS.enabled];
    if (enabled === "false") return [];
    if (enabled !== "true") {
      const others = Object.keys(annotations).filter((key) => key.startsWith(ANNOTATION_PREFIX));
      invalid.push({
        annotation: ANNOTATIONS.enabled,
        message: enabled === undefined
          ? `is missing, so ${others.join(", ")} ${others.length === 1 ? "is" : "are"} ignored; ` +
            `set ${ANNOTATIONS.enabled}: "true" to check the object, or "false" to silence this`
          : `is "${enabled}"; expected "true" or "false"`,
      });
      return problems();
    }

    const settings = readSettings(annotations, invalid);
    const context_: TargetContext = { ...base, severityOverride: settings.severity };
    const targets: Target[] = [];

    let stored: Uint8Array | undefined;
    let trust: TrustSpec = { kind: "unknown" };
    if (settings.tlsSecret) {
      const secret = await readObject(
        kube,
        "/api/v1",
        "secrets",
        namespace,
        settings.tlsSecret,
        context.signal,
      );
      const secretTarget = secretTargetOf(context_, label, namespace, settings, secret);
      targets.push(secretTarget.target);
      stored = secretTarget.stored;
      if (secretTarget.ca) {
        trust = {
          kind: "anchors",
          pem: secretTarget.ca,
          origin: `ca.crt of secret ${namespace}/${settings.tlsSecret}`,
        };
      }
    }
    const endpointBase: TargetContext = settings.tlsSecret
      ? { ...context_, secretRef: { namespace, name: settings.tlsSecret } }
      : context_;

    const endpoints = kind === "service"
      ? serviceEndpoints(object, settings, invalid)
      : await podEndpoints(object, settings, invalid, kube, context);
    if (endpoints === "no-pods") {
      targets.push({
        ...context_,
        kind: "problem",
        findingType: "NO_ENDPOINTS",
        target: "pods",
        message: `${label} has no running pod with an IP, so nothing was probed`,
      });
    } else {
      for (const endpoint of endpoints) {
        const target: EndpointTarget = {
          ...endpointBase,
          kind: "endpoint",
          endpoint: endpoint.endpoint,
          expectedNames: endpoint.expectedNames,
          trust,
          notes: [...endpointBase.notes ?? [], ...endpoint.notes],
        };
        if (stored) target.storedCertificate = stored;
        targets.push(target);
      }
    }

    for (const line of settings.externalTargets) {
      try {
        const external = externalTarget({ url: line });
        targets.push({
          ...context_,
          ...external,
          source: this.source,
          name,
          namespace,
          severityOverride: settings.severity,
          notes: [kind, `external target ${line}`],
          ref: base.ref,
        });
      } catch (error) {
        invalid.push({
          annotation: ANNOTATIONS.externalTargets,
          message: (error as Error).message,
        });
      }
    }
    return [...problems(), ...targets];
  }
}

function hasTrustwatchAnnotation(object: KubeObject): boolean {
  return Object.keys(object.metadata.annotations ?? {}).some((key) =>
    key.startsWith(ANNOTATION_PREFIX)
  );
}

function invalidTarget(base: TargetContext, label: string, entry: Invalid): Target {
  return {
    ...base,
    kind: "problem",
    findingType: "ANNOTATION_INVALID",
    target: entry.annotation,
    message: `${label}: ${entry.annotation} ${entry.message}`,
  };
}

/** Reads and validates the annotations; invalid values are added to `invalid` and left out. */
function readSettings(annotations: Record<string, string>, invalid: Invalid[]): Settings {
  const settings: Settings = { externalTargets: [] };
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(ANNOTATION_PREFIX) && !KNOWN_ANNOTATIONS.has(key)) {
      invalid.push({
        annotation: key,
        message: `is not a trustwatch annotation; expected one of ${
          [...KNOWN_ANNOTATIONS].join(", ")
        }`,
      });
    }
  }

  const severity = annotations[ANNOTATIONS.severity];
  if (severity !== undefined) {
    if ((SEVERITIES as readonly string[]).includes(severity)) {
      settings.severity = severity as Severity;
    } else {
      invalid.push({
        annotation: ANNOTATIONS.severity,
        message: `is "${severity}"; expected ${SEVERITIES.join(", ")}`,
      });
    }
  }

  const sni = annotations[ANNOTATIONS.sni]?.trim();
  if (sni !== undefined) {
    if (DNS_NAME.test(sni) && !sni.startsWith("*")) settings.sni = sni;
    else invalid.push({ annotation: ANNOTATIONS.sni, message: `is "${sni}"; expected a DNS name` });
  }

  const ports = annotations[ANNOTATIONS.ports];
  if (ports !== undefined) settings.ports = readPorts(ports, invalid);

  const tlsSecret = annotations[ANNOTATIONS.tlsSecret]?.trim();
  if (tlsSecret !== undefined) {
    if (/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(tlsSecret) && tlsSecret.length <= 253) {
      settings.tlsSecret = tlsSecret;
    } else {
      invalid.push({
        annotation: ANNOTATIONS.tlsSecret,
        message: `is "${tlsSecret}"; expected the name of a Secret in the same namespace`,
      });
    }
  }

  const externalTargets = annotations[ANNOTATIONS.externalTargets];
  if (externalTargets !== undefined) {
    for (const line of externalTargets.split("\n").map((entry) => entry.trim())) {
      if (line === "") continue;
      const problem = externalTargetProblem(line);
      if (problem) invalid.push({ annotation: ANNOTATIONS.externalTargets, message: problem });
      else settings.externalTargets.push(line);
    }
  }
  return settings;
}

function readPorts(value: string, invalid: Invalid[]): PortSpec[] {
  const ports: PortSpec[] = [];
  const entries = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (entries.length === 0) {
    invalid.push({ annotation: ANNOTATIONS.ports, message: "is empty; expected e.g. 443,8443" });
  }
  for (const entry of entries) {
    if (/^\d+$/.test(entry)) {
      const port = Number(entry);
      if (port >= 1 && port <= 65_535) ports.push({ value: port, raw: entry });
      else {invalid.push({
          annotation: ANNOTATIONS.ports,
          message: `lists ${entry}, which is not a port from 1 to 65535`,
        });}
    } else if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(entry) && entry.length <= 15) {
      ports.push({ value: entry, raw: entry });
    } else {
      invalid.push({
        annotation: ANNOTATIONS.ports,
        message: `lists "${entry}", which is neither a port number nor a port name`,
      });
    }
  }
  return ports;
}

function externalTargetProblem(line: string): string | undefined {
  let url: URL;
  try {
    url = new URL(line);
  } catch {
    return `lists "${line}", which is not a URL; expected https://host[:port] or tcp://host:port`;
  }
  if (url.protocol !== "https:" && url.protocol !== "tcp:") {
    return `lists "${line}" with scheme ${url.protocol}; expected https: or tcp:`;
  }
  if (url.hostname === "") return `lists "${line}", which has no host`;
  if (url.protocol === "tcp:" && !url.port) return `lists "${line}": tcp:// needs a port`;
  return undefined;
}

function secretTargetOf(
  base: TargetContext,
  label: string,
  namespace: string,
  settings: Settings,
  secret: ObjectRead,
): { target: Target; stored?: Uint8Array; ca?: Uint8Array } {
  const name = settings.tlsSecret!;
  const secretLabel = `secret ${namespace}/${name}`;
  const problem = (findingType: string, message: string): { target: Target } => ({
    target: { ...base, kind: "problem", findingType, target: name, message },
  });
  if (secret === "not-found") {
    return problem(
      "SECRET_NOT_FOUND",
      `${label}: ${ANNOTATIONS.tlsSecret} names ${secretLabel}, which was not found`,
    );
  }
  if (secret instanceof ReadFailure) {
    return { target: readFailureTarget(base, secret, label, name) };
  }
  const bytes = secretKey(secret, "tls.crt");
  if (bytes === undefined) {
    return problem("CERT_MISSING", `${label}: ${secretLabel} has no tls.crt`);
  }
  if (bytes === "invalid") {
    return problem("CERT_UNREADABLE", `${label}: tls.crt of ${secretLabel} is not valid base64`);
  }
  const ca = secretKey(secret, "ca.crt");
  const caBytes = ca instanceof Uint8Array ? ca : undefined;
  return {
    target: {
      ...base,
      secretRef: { namespace, name },
      kind: "material",
      objectLabel: secretLabel,
      key: "tls.crt",
      bytes,
      anchors: caBytes,
      expectedNames: settings.sni ? [settings.sni] : [],
      leafOnly: true,
      notes: [...base.notes ?? [], `secret=${name}`],
    },
    stored: bytes,
    ca: caBytes,
  };
}

interface EndpointSpec {
  endpoint: EndpointTarget["endpoint"];
  expectedNames: string[];
  notes: string[];
}

function serviceEndpoints(
  service: KubeObject,
  settings: Settings,
  invalid: Invalid[],
): EndpointSpec[] {
  const { name } = service.metadata;
  const namespace = service.metadata.namespace!;
  const externalName: unknown = service.spec?.externalName;
  const isExternalName = service.spec?.type === "ExternalName" && typeof externalName === "string";
  const host = isExternalName ? externalName as string : `${name}.${namespace}.svc`;
  const declared: { name?: string; port: number; appProtocol?: string }[] =
    Array.isArray(service.spec?.ports) ? service.spec.ports : [];

  let ports: number[];
  if (settings.ports) {
    ports = [];
    for (const spec of settings.ports) {
      const match = declared.find((port) => port.port === spec.value || port.name === spec.value);
      if (match) ports.push(match.port);
      else if (typeof spec.value === "number" && (isExternalName || declared.length === 0)) {
        ports.push(spec.value);
      } else {
        invalid.push({
          annotation: ANNOTATIONS.ports,
          message: `lists ${spec.raw}, which is not a port of the service (ports: ${
            declared.map((port) => port.name ? `${port.name}=${port.port}` : port.port).join(
              ", ",
            ) || "none"
          })`,
        });
      }
    }
  } else {
    ports = declared
      .filter((port) =>
        port.port === DEFAULT_TLS_PORT || TLS_PORT_NAME.test(`${port.name} ${port.appProtocol}`)
      )
      .map((port) => port.port);
    if (ports.length === 0 && (isExternalName || declared.length === 0)) ports = [DEFAULT_TLS_PORT];
    if (ports.length === 0) {
      invalid.push({
        annotation: ANNOTATIONS.ports,
        message:
          `is not set and no service port is 443 or named https or tls; set ${ANNOTATIONS.ports}`,
      });
    }
  }

  const serverName = settings.sni ?? host;
  return [...new Set(ports)].map((port) => ({
    endpoint: { host, port, sni: serverName },
    expectedNames: [serverName],
    notes: [],
  }));
}

async function podEndpoints(
  deployment: KubeObject,
  settings: Settings,
  invalid: Invalid[],
  kube: KubeClient,
  context: DiscoveryContext,
): Promise<EndpointSpec[] | "no-pods"> {
  const namespace = deployment.metadata.namespace!;
  const containerPorts: { name?: string; containerPort: number }[] = (
    (deployment.spec?.template?.spec?.containers ?? []) as {
      ports?: { name?: string; containerPort: number }[];
    }[]
  ).flatMap((container) => container.ports ?? []);

  let ports: number[];
  if (settings.ports) {
    ports = [];
    for (const spec of settings.ports) {
      if (typeof spec.value === "number") {
        ports.push(spec.value);
        continue;
      }
      const match = containerPorts.find((port) => port.name === spec.value);
      if (match) ports.push(match.containerPort);
      else {
        invalid.push({
          annotation: ANNOTATIONS.ports,
          message: `lists ${spec.raw}, which is not a named container port of the deployment`,
        });
      }
    }
  } else {
    ports = containerPorts
      .filter((port) =>
        port.containerPort === DEFAULT_TLS_PORT || TLS_PORT_NAME.test(port.name ?? "")
      )
      .map((port) => port.containerPort);
    if (ports.length === 0) {
      invalid.push({
        annotation: ANNOTATIONS.ports,
        message:
          `is not set and no container port is 443 or named https or tls; set ${ANNOTATIONS.ports}`,
      });
      return [];
    }
  }
  if (ports.length === 0) return [];

  const selector = labelSelectorOf(deployment.spec?.selector);
  if (!selector) {
    invalid.push({
      annotation: ANNOTATIONS.enabled,
      message: "is set on a deployment without spec.selector",
    });
    return [];
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  let pods: KubeObject[];
  try {
    pods = await kube.listAll(path, { labelSelector: selector }, context.signal);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    context.logger.warn("cannot list pods of deployment {deployment}: {message}", {
      deployment: `${namespace}/${deployment.metadata.name}`,
      message: (error as Error).message,
    });
    return "no-pods";
  }
  const running = pods.filter((pod) => pod.status?.phase === "Running" && pod.status?.podIP);
  if (running.length === 0) return "no-pods";

  return running.flatMap((pod) =>
    [...new Set(ports)].map((port) => ({
      endpoint: { host: pod.status.podIP as string, port, sni: settings.sni ?? "" },
      expectedNames: settings.sni ? [settings.sni] : [],
      notes: [`pod=${pod.metadata.name}`],
    }))
  );
}

/** Turns a LabelSelector into the `labelSelector` query form; undefined when it selects nothing. */
export function labelSelectorOf(selector: unknown): string | undefined {
  if (!selector || typeof selector !== "object") return undefined;
  const { matchLabels, matchExpressions } = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const parts = Object.entries(matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of matchExpressions ?? []) {
    const values = (expression.values ?? []).join(",");
    switch (expression.operator) {
      case "In":
        parts.push(`${expression.key} in (${values})`);
        break;
      case "NotIn":
        parts.push(`${expression.key} notin (${values})`);
        break;
      case "Exists":
        parts.push(expression.key);
        break;
      case "DoesNotExist":
        parts.push(`!${expression.key}`);
        break;
    }
  }
  return parts.length > 0 ? parts.join(",") : undefined;
}
