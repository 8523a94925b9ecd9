/**
 * Aggregated APIServices: the backend Service the API server proxies to, and how it trusts it.
 * Local APIServices (no `spec.service`) are served by the API server itself and are skipped.
 *
 * @module
 */
import type { Target, TargetContext } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import { caBundleTargets, serviceEndpointTarget } from "./_service_endpoint.ts";

/** Yields one endpoint target per APIService with a backend Service. */
export class ApiServiceDiscoverer implements Discoverer {
  readonly source = "k8s.apiservice" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const kube = requireKube(context);
    const path = "/apis/apiregistration.k8s.io/v1/apiservices";
    for await (const page of kube.listPages(path, {}, context.signal)) {
      for (const apiService of page) {
        const spec = apiService.spec ?? {};
        if (!spec.service) continue;

        const name = apiService.metadata.name;
        const label = `apiservice ${name}`;
        const base: TargetContext = {
          source: this.source,
          name,
          failClosed: true,
          notes: [],
          ref: { resource: "apiservice", name },
        };
        const target = serviceEndpointTarget(base, spec.service, spec.caBundle, label);
        if (spec.insecureSkipTLSVerify === true) {
          target.trust = { kind: "skip", origin: label };
          target.notes = [...target.notes ?? [], "insecureSkipTLSVerify=true"];
        }
        yield target;
        if (spec.insecureSkipTLSVerify !== true) {
          yield* caBundleTargets(base, spec.caBundle, label, spec.service);
        }
      }
    }
  }
}
