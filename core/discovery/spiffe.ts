/**
 * SPIFFE trust bundles: every X.509 bundle and federated bundle the SPIFFE Workload API gives
 * this workload, each CA certificate reported under its trust domain.
 *
 * Workload X.509-SVIDs are short-lived and rotated by the agent, so they are ignored by design:
 * an expiring SVID is normal, an expiring trust bundle is not.
 *
 * @module
 */
import { fetchX509Bundles, SPIFFE_ENDPOINT_SOCKET_ENV } from "../spiffe/workload_api.ts";
import type { Target, TargetContext } from "../target.ts";
import type { Discoverer, DiscoveryContext } from "./discoverer.ts";

/** Options of a {@linkcode SpiffeDiscoverer}. */
export interface SpiffeDiscovererOptions {
  /**
   * Workload API address (`unix:///path` or `/path`). When omitted, the config's
   * `spiffeSocket` is used, then the `SPIFFE_ENDPOINT_SOCKET` environment variable; without
   * any, the discoverer yields nothing.
   */
  socket?: string;
  /** Time allowed for the Workload API call, in milliseconds. */
  timeoutMs?: number;
}

/** Yields the CA certificates of every SPIFFE trust bundle, one material target per bundle. */
export class SpiffeDiscoverer implements Discoverer {
  readonly source = "spiffe" as const;
  readonly needsCluster = false;
  readonly #options: SpiffeDiscovererOptions;

  constructor(options: SpiffeDiscovererOptions = {}) {
    this.#options = options;
  }

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    const address = this.#options.socket ?? context.config.spiffeSocket ??
      Deno.env.get(SPIFFE_ENDPOINT_SOCKET_ENV);
    if (!address) return;

    const { bundles, method } = await fetchX509Bundles(address, {
      timeoutMs: this.#options.timeoutMs,
      signal: context.signal,
    });
    context.logger.debug("read {count} SPIFFE bundles from {address} with {method}", {
      count: bundles.length,
      address,
      method,
    });
    if (bundles.length === 0) {
      context.logger.warn("the SPIFFE Workload API at {address} returned no X.509 bundle", {
        address,
      });
    }

    for (const bundle of bundles) {
      const trustDomainId = `spiffe://${bundle.trustDomain}`;
      const kindNote = bundle.federated === undefined
        ? []
        : [bundle.federated ? "federated bundle" : "own trust domain"];
      const base: TargetContext = {
        source: this.source,
        name: bundle.trustDomain,
        // Trust roots of workload identity: when they expire, mTLS between workloads fails.
        failClosed: true,
        notes: [`trustDomain=${trustDomainId}`, ...kindNote, `workloadAPI=${address}`],
      };
      const objectLabel = `SPIFFE bundle of ${trustDomainId} from the Workload API at ${address}`;
      if (bundle.der.length === 0) {
        yield {
          ...base,
          kind: "problem",
          findingType: "CERT_MISSING",
          target: trustDomainId,
          message:
            `${objectLabel} contains no CA certificate, so workloads cannot verify peers of ` +
            "this trust domain: check the bundle on the SPIRE server (spire-server bundle show)",
        };
        continue;
      }
      yield { ...base, kind: "material", objectLabel, key: trustDomainId, bytes: bundle.der };
    }
  }
}
