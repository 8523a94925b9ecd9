/**
 * Admission webhooks: every webhook of every Validating and Mutating webhook configuration, with
 * the endpoint the API server calls and the caBundle it trusts.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { Target, TargetContext } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import { caBundleTargets, serviceEndpointTarget, urlEndpointTarget } from "./_service_endpoint.ts";

const WEBHOOK_KINDS = [
  { resource: "validatingwebhookconfigurations", kubectl: "validatingwebhookconfiguration" },
  { resource: "mutatingwebhookconfigurations", kubectl: "mutatingwebhookconfiguration" },
] as const;

/** The Kubernetes default when a webhook does not set `failurePolicy`. */
export const DEFAULT_FAILURE_POLICY = "Fail";

/** Yields one endpoint target per webhook, plus its caBundle certificates. */
export class WebhookDiscoverer implements Discoverer {
  readonly source = "k8s.webhook" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    for (const kind of WEBHOOK_KINDS) {
      const path = `/apis/admissionregistration.k8s.io/v1/${kind.resource}`;
      for await (const page of kube.listPages(path, {}, context.signal)) {
        for (const configuration of page) {
          yield* this.#targetsOf(configuration, kind.kubectl, context);
        }
      }
    }
  }

  *#targetsOf(
    configuration: KubeObject,
    resource: string,
    context: DiscoveryContext,
  ): Iterable<Target> {
    const configName = configuration.metadata.name;
    const webhooks: KubeObject["webhooks"] = configuration.webhooks ?? [];
    for (const webhook of webhooks) {
      const failurePolicy: string = webhook.failurePolicy ?? DEFAULT_FAILURE_POLICY;
      const base: TargetContext = {
        source: this.source,
        name: `${configName}/${webhook.name}`,
        failClosed: failurePolicy === "Fail",
        severityCap: failurePolicy === "Fail" ? undefined : "warn",
        notes: [resource, `failurePolicy=${failurePolicy}`],
        ref: { resource, name: configName },
      };
      const clientConfig = webhook.clientConfig ?? {};
      const label = `${resource} ${configName}, webhook ${webhook.name}`;
      if (clientConfig.service) {
        yield serviceEndpointTarget(base, clientConfig.service, clientConfig.caBundle, label);
      } else if (clientConfig.url) {
        yield urlEndpointTarget(base, clientConfig.url, clientConfig.caBundle, label);
      } else {
        context.logger.warn(
          "webhook {name} has neither clientConfig.service nor clientConfig.url",
          {
            name: base.name,
          },
        );
        continue;
      }
      yield* caBundleTargets(base, clientConfig.caBundle, label, clientConfig.service);
    }
  }
}
