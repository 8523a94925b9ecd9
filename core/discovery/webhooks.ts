/**
 * Admission webhooks: every webhook of every Validating and Mutating webhook configuration, with
 * the endpoint the API server calls and the caBundle it trusts.
 *
 * @module
 */
import { isForbidden, isNotServed, type KubeObject } from "../kube/client.ts";
import type { ObjectRef, Target, TargetContext } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import {
  clientConfigTargets,
  describeValue,
  type InvalidField,
  invalidFieldTarget,
  isObject,
} from "./_service_endpoint.ts";

const WEBHOOK_KINDS = [
  { resource: "validatingwebhookconfigurations", kubectl: "validatingwebhookconfiguration" },
  { resource: "mutatingwebhookconfigurations", kubectl: "mutatingwebhookconfiguration" },
] as const;

const ADMISSION_API = "/apis/admissionregistration.k8s.io/v1";

/** The Kubernetes default when a webhook does not set `failurePolicy`. */
export const DEFAULT_FAILURE_POLICY = "Fail";

/** Yields one endpoint target per webhook, plus its caBundle certificates. */
export class WebhookDiscoverer implements Discoverer {
  readonly source = "k8s.webhook" as const;
  readonly needsCluster = true;

  /**
   * Lists each kind on its own, so a kind that cannot be listed (403) does not hide the other.
   * Throws after yielding everything else when a kind failed, so the scan reports it as an error.
   */
  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const failures: string[] = [];
    for (const kind of WEBHOOK_KINDS) {
      const path = `${ADMISSION_API}/${kind.resource}`;
      try {
        for await (const page of kube.listPages(path, {}, context.signal)) {
          for (const configuration of page) {
            yield* this.#targetsOf(configuration, kind.kubectl, context);
          }
        }
      } catch (error) {
        if (context.signal.aborted) throw error;
        if (isNotServed(error)) {
          context.logger.debug("{resource} not served by this cluster; skipped", {
            resource: kind.resource,
          });
          continue;
        }
        failures.push(listFailureMessage(kind.resource, error));
      }
    }
    if (failures.length > 0) throw new Error(failures.join("; "));
  }

  /**
   * Describes every webhook of one configuration. A malformed `webhooks` list, entry, name,
   * failurePolicy or clientConfig becomes an `INVALID_CLIENT_CONFIG` problem naming the field;
   * the other webhooks are described as usual.
   */
  *#targetsOf(
    configuration: KubeObject,
    resource: string,
    context: DiscoveryContext,
  ): Iterable<Target> {
    const configName = configuration.metadata.name;
    const ref: ObjectRef = { resource, name: configName };
    const webhooks: unknown = configuration.webhooks;
    if (webhooks === undefined || webhooks === null) return;
    if (!Array.isArray(webhooks)) {
      const base: TargetContext = {
        source: this.source,
        name: configName,
        failClosed: true,
        notes: [resource],
        ref,
      };
      yield warnInvalid(
        context,
        invalidFieldTarget(base, `${resource} ${configName}`, {
          path: "webhooks",
          problem: `is ${describeValue(webhooks)}; set a list of webhooks`,
        }),
      );
      return;
    }

    for (const [index, webhook] of webhooks.entries()) {
      for (const target of this.#webhookTargets(webhook, `webhooks[${index}]`, ref)) {
        yield warnInvalid(context, target);
      }
    }
  }

  /** Describes one entry of `webhooks`, at `path`, of the configuration `ref` names. */
  #webhookTargets(webhook: unknown, path: string, ref: ObjectRef): Target[] {
    const invalid: InvalidField[] = [];
    if (!isObject(webhook)) {
      invalid.push({
        path,
        problem: `is ${describeValue(webhook)}; set an object with name and clientConfig`,
      });
    }
    const entry = isObject(webhook) ? webhook : {};
    const webhookName = webhookNameOf(entry, path, invalid, isObject(webhook));
    const failurePolicy = failurePolicyOf(entry.failurePolicy, `${path}.failurePolicy`, invalid);
    const notes = [ref.resource, `failurePolicy=${failurePolicy}`];
    if (invalid.some((field) => field.path === `${path}.failurePolicy`)) {
      notes.push(`invalid failurePolicy read as ${DEFAULT_FAILURE_POLICY}, the API server default`);
    }
    const base: TargetContext = {
      source: this.source,
      name: `${ref.name}/${webhookName}`,
      failClosed: failurePolicy === "Fail",
      severityCap: failurePolicy === "Fail" ? undefined : "warn",
      notes,
      ref,
    };
    const label = `${ref.resource} ${ref.name}, webhook ${webhookName}`;

    const targets: Target[] = invalid.map((field) => invalidFieldTarget(base, label, field));
    if (!isObject(webhook)) return targets;
    return [
      ...targets,
      ...clientConfigTargets(base, entry.clientConfig, `${path}.clientConfig`, label),
    ];
  }
}

/** Values of `failurePolicy` the API server accepts. */
const FAILURE_POLICIES = new Set(["Fail", "Ignore"]);

/**
 * Returns a webhook's failurePolicy. An invalid value is recorded and read as `Fail`, the API
 * server's default, so a problem with the webhook is judged as if it blocks admission.
 */
function failurePolicyOf(value: unknown, path: string, invalid: InvalidField[]): string {
  if (value === undefined || value === null) return DEFAULT_FAILURE_POLICY;
  if (typeof value === "string" && FAILURE_POLICIES.has(value)) return value;
  invalid.push({
    path,
    problem: `is ${describeValue(value)}; set Fail or Ignore (read as ${DEFAULT_FAILURE_POLICY}, ` +
      "the API server default)",
  });
  return DEFAULT_FAILURE_POLICY;
}

/**
 * Returns a webhook's name, or its field path (`webhooks[2]`) when the name is missing or not a
 * string, recording it as invalid unless the whole entry already is.
 */
function webhookNameOf(
  entry: Record<string, unknown>,
  path: string,
  invalid: InvalidField[],
  entryIsObject: boolean,
): string {
  const name = entry.name;
  if (typeof name === "string" && name !== "") return name;
  if (entryIsObject) {
    invalid.push({
      path: `${path}.name`,
      problem: `is ${describeValue(name)}; set a fully qualified name such as ` +
        "validate.example.com",
    });
  }
  return path;
}

/** Logs a problem target of an invalid field, and passes every target through. */
function warnInvalid(context: DiscoveryContext, target: Target): Target {
  if (target.kind === "problem") {
    context.logger.warn("{name}: {field} is invalid: {message}", {
      name: target.name,
      field: target.target,
      message: target.message,
    });
  }
  return target;
}

/** Describes a failed list of one webhook kind, with the RBAC fix when it was forbidden. */
function listFailureMessage(resource: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  const rbacResource = `${resource}.admissionregistration.k8s.io`;
  if (isForbidden(error)) {
    return `list ${rbacResource} is forbidden for the credentials in use; grant list on ` +
      `${rbacResource} (ClusterRole and ClusterRoleBinding) and check with ` +
      `kubectl auth can-i list ${rbacResource}`;
  }
  return `list ${rbacResource} failed: ${reason}`;
}
