/**
 * External endpoints from the config file's `external[]`: `https://host[:port]` or
 * `tcp://host:port[?sni=name]`.
 *
 * @module
 */
import { type ExternalTarget, externalUrlProblem } from "../config.ts";
import type { EndpointTarget, Target } from "../target.ts";
import type { Discoverer, DiscoveryContext } from "./discoverer.ts";

/** Port of an `https://` URL without one. */
export const DEFAULT_HTTPS_PORT = 443;

/** Yields one endpoint target per configured external URL, trusted through the system roots. */
export class ExternalDiscoverer implements Discoverer {
  readonly source = "external" as const;
  readonly needsCluster = false;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    for (const external of context.config.external) {
      try {
        yield externalTarget(external);
      } catch (error) {
        yield {
          kind: "problem",
          source: this.source,
          name: external.url,
          failClosed: false,
          severityOverride: external.severity,
          findingType: "INVALID_URL",
          message: (error as Error).message,
        };
      }
    }
  }
}

/** Returns the endpoint target for one external URL; throws naming the URL when it is unusable. */
export function externalTarget(external: ExternalTarget): EndpointTarget {
  const url = parseExternalUrl(external.url);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol === "tcp:" && !url.port) {
    throw new Error(`external url "${external.url}": tcp:// needs a port, e.g. tcp://${host}:5432`);
  }
  const port = Number(url.port || DEFAULT_HTTPS_PORT);
  const sni = external.sni ?? url.searchParams.get("sni") ?? undefined;
  return {
    kind: "endpoint",
    source: "external",
    name: external.url,
    failClosed: false,
    severityOverride: external.severity,
    endpoint: { host, port, sni },
    expectedNames: [sni ?? host],
    trust: { kind: "system" },
  };
}

/**
 * Parses an external URL as the config file does, so annotation values get the same checks:
 * https or tcp only, no credentials (never quoted back), no path or query trustwatch would ignore.
 */
function parseExternalUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const shown = text.includes("@") ? "(not shown: it contains @)" : `"${text}"`;
    throw new Error(
      `external url ${shown} is not a URL; expected https://host[:port] or tcp://host:port`,
    );
  }
  if (url.username || url.password) {
    url.username = "";
    url.password = "";
    throw new Error(
      `external url "${url.href}" contains credentials; remove user:password@, trustwatch does not send them`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "tcp:") {
    throw new Error(`external url "${text}" has scheme ${url.protocol}; expected https: or tcp:`);
  }
  const problem = externalUrlProblem(url);
  if (problem) throw new Error(`external url "${text}" ${problem}`);
  return url;
}
