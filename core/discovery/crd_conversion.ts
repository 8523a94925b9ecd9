/**
 * CRD conversion webhooks: every CustomResourceDefinition with `spec.conversion.strategy:
 * Webhook`, with the endpoint the API server calls to convert between versions and the caBundle
 * it trusts. A conversion webhook has no failure policy: when the API server cannot verify or
 * reach it, reads and writes of the non-storage versions fail, so it is a fail-closed surface.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import {
  clientConfigTargets,
  describeValue,
  invalidFieldTarget,
  isObject,
} from "./_service_endpoint.ts";

/** List path of CustomResourceDefinitions. */
export const CRD_LIST_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/**
 * CRDs per list page. CRDs carry whole OpenAPI schemas (often hundreds of kilobytes each), so
 * pages are kept smaller than for other kinds to bound memory.
 */
export const CRD_PAGE_SIZE = 50;

/** kubectl resource name of a CRD, for remediation commands. */
const CRD_RESOURCE = "customresourcedefinition";

/** Field path of a CRD's conversion webhook. */
const WEBHOOK_PATH = "spec.conversion.webhook";

/** Yields one endpoint target per CRD conversion webhook, plus its caBundle certificates. */
export class CrdConversionDiscoverer implements Discoverer {
  readonly source = "k8s.webhook" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const query = { limit: CRD_PAGE_SIZE };
    for await (const page of kube.listPages(CRD_LIST_PATH, query, context.signal)) {
      for (const crd of page) yield* this.#targetsOf(crd, context);
    }
  }

  *#targetsOf(crd: KubeObject, context: DiscoveryContext): Iterable<Target> {
    const conversion = crd.spec?.conversion;
    if (conversion?.strategy !== "Webhook") return;

    const crdName = crd.metadata.name;
    const label = `${CRD_RESOURCE} ${crdName}, conversion webhook`;
    const base: TargetContext = {
      source: this.source,
      name: `crd/${crdName}`,
      failClosed: true,
      notes: [CRD_RESOURCE, "conversion=Webhook"],
      ref: { resource: CRD_RESOURCE, name: crdName },
    };
    const webhook: unknown = conversion.webhook;
    const targets = isObject(webhook)
      ? clientConfigTargets(base, webhook.clientConfig, `${WEBHOOK_PATH}.clientConfig`, label)
      : [invalidFieldTarget(base, label, {
        path: WEBHOOK_PATH,
        problem: `is ${describeValue(webhook)}; set webhook.clientConfig with service or url, ` +
          "or set spec.conversion.strategy: None",
      })];
    for (const target of targets) {
      if (target.kind === "problem") {
        context.logger.warn("{name}: {field} is invalid: {message}", {
          name: base.name,
          field: target.target,
          message: target.message,
        });
      }
      yield target;
    }
  }
}
