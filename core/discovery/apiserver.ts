/**
 * The API server's own serving certificate, at the address the kubeconfig names.
 *
 * @module
 */
import { DEFAULT_HTTPS_PORT } from "./external.ts";
import type { EndpointTarget, Target, TrustSpec } from "../target.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";

/** Yields the API server endpoint, trusted through the kubeconfig's CA. */
export class ApiServerDiscoverer implements Discoverer {
  readonly source = "k8s.apiserver" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const cluster = requireKube(context).cluster;
    const url = new URL(cluster.server);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || DEFAULT_HTTPS_PORT);
    const trust: TrustSpec = cluster.insecureSkipTLSVerify
      ? { kind: "skip", origin: `kubeconfig context ${cluster.contextName}` }
      : cluster.caPem
      ? {
        kind: "anchors",
        pem: new TextEncoder().encode(cluster.caPem),
        origin: `certificate-authority of kubeconfig context ${cluster.contextName}`,
      }
      : { kind: "system" };

    const target: EndpointTarget = {
      kind: "endpoint",
      source: this.source,
      name: "kube-apiserver",
      failClosed: true,
      endpoint: { host, port, sni: cluster.tlsServerName },
      expectedNames: [cluster.tlsServerName ?? host],
      trust,
      notes: [`context=${cluster.contextName}`],
    };
    yield target;
  }
}
