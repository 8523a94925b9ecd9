/**
 * Aggregated APIServices: the backend Service the API server proxies to, and how it trusts it.
 * Local APIServices (no `spec.service`) are served by the API server itself and are skipped.
 * A malformed `spec`, `spec.service`, caBundle or insecureSkipTLSVerify becomes an
 * `INVALID_CLIENT_CONFIG` problem naming the field, and the endpoint is not probed.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import {
  caBundleTargets,
  checkCaBundle,
  describeValue,
  type InvalidField,
  invalidFieldTarget,
  isObject,
  parseServiceReference,
  serviceEndpointTarget,
} from "./_service_endpoint.ts";

/** Yields one endpoint target per APIService with a backend Service. */
export class ApiServiceDiscoverer implements Discoverer {
  readonly source = "k8s.apiservice" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const path = "/apis/apiregistration.k8s.io/v1/apiservices";
    for await (const page of kube.listPages(path, {}, context.signal)) {
      for (const apiService of page) {
        for (const target of this.#targetsOf(apiService)) {
          if (target.kind === "problem") {
            context.logger.warn("apiservice {name}: {field} is invalid: {message}", {
              name: target.name,
              field: target.target,
              message: target.message,
            });
          }
          yield target;
        }
      }
    }
  }

  *#targetsOf(apiService: KubeObject): Iterable<Target> {
    const name = apiService.metadata.name;
    const label = `apiservice ${name}`;
    const base: TargetContext = {
      source: this.source,
      name,
      failClosed: true,
      notes: [],
      ref: { resource: "apiservice", name },
    };
    const spec: unknown = apiService.spec;
    if (spec === undefined || spec === null) return;
    if (!isObject(spec)) {
      yield invalidFieldTarget(base, label, {
        path: "spec",
        problem: `is ${
          describeValue(spec)
        }; set an object with service, caBundle and groupPriorityMinimum`,
      });
      return;
    }
    if (spec.service === undefined || spec.service === null) return;

    const invalid: InvalidField[] = [];
    const caBundle = checkCaBundle(spec.caBundle, "spec.caBundle", invalid);
    const skipVerify = spec.insecureSkipTLSVerify;
    if (skipVerify !== undefined && skipVerify !== null && typeof skipVerify !== "boolean") {
      invalid.push({
        path: "spec.insecureSkipTLSVerify",
        problem: `is ${describeValue(skipVerify)}; set true or false`,
      });
    }
    const parsed = parseServiceReference(spec.service, "spec.service");
    if ("invalid" in parsed) invalid.push(...parsed.invalid);
    for (const field of invalid) yield invalidFieldTarget(base, label, field);

    // The endpoint is probed only as the API server would call it, so not with guessed fields.
    const reference = "reference" in parsed ? parsed.reference : undefined;
    if (reference && invalid.length === 0) {
      const target = serviceEndpointTarget(base, reference, caBundle, label);
      if (skipVerify === true) {
        target.trust = { kind: "skip", origin: label };
        target.notes = [...target.notes ?? [], "insecureSkipTLSVerify=true"];
      }
      yield target;
    }
    if (skipVerify !== true) yield* caBundleTargets(base, caBundle, label, reference);
  }
}
