/**
 * Resolver overrides in curl's `--resolve HOST:PORT:ADDR` form, so an endpoint such as
 * `webhook.ns.svc:443` can be dialed at a reachable address while its SNI stays the service name.
 *
 * @module
 */
import { isIP } from "node:net";

/** One override: connections to `host:port` go to `address`, an IP literal without brackets. */
export interface ResolveEntry {
  host: string;
  port: number;
  address: string;
}

const RESOLVE_EXAMPLE = "webhook.ns.svc:443:127.0.0.1";

function invalidResolve(value: string, reason: string): Error {
  return new Error(
    `invalid --resolve "${value}": ${reason}. Expected HOST:PORT:ADDR, e.g. ${RESOLVE_EXAMPLE}`,
  );
}

/**
 * Parses a curl-style `HOST:PORT:ADDR` override. ADDR is an IPv4 or IPv6 literal, and an IPv6
 * literal may be written in brackets (`[::1]`). HOST is an exact name, wildcards are not supported.
 *
 * @throws {Error} naming the value and the expected form when the value does not parse.
 * @example
 * ```ts
 * parseResolveEntry("webhook.ns.svc:443:[::1]"); // { host: "webhook.ns.svc", port: 443, address: "::1" }
 * ```
 */
export function parseResolveEntry(value: string): ResolveEntry {
  // An IPv6 host is written in brackets, as in URLs: [::1]:443:127.0.0.1.
  const hostEnd = value.startsWith("[") ? value.indexOf("]") + 1 : value.indexOf(":");
  if (value.startsWith("[") && (hostEnd === 0 || value[hostEnd] !== ":")) {
    throw invalidResolve(value, "an IPv6 host needs a closing ] followed by :PORT");
  }
  const portEnd = value.indexOf(":", hostEnd + 1);
  if (hostEnd < 0 || portEnd < 0) throw invalidResolve(value, "missing port or address");

  const host = value.slice(0, hostEnd).trim().replace(/^\[(.*)\]$/, "$1");
  const portText = value.slice(hostEnd + 1, portEnd).trim();
  let address = value.slice(portEnd + 1).trim();

  if (host === "") throw invalidResolve(value, "host is empty");
  if (host === "*" || host.includes("*")) {
    throw invalidResolve(value, "wildcard hosts are not supported");
  }

  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65_535) {
    throw invalidResolve(value, `port "${portText}" is not an integer from 1 to 65535`);
  }

  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  if (isIP(address) === 0) {
    throw invalidResolve(value, `address "${address}" is not an IPv4 or IPv6 literal`);
  }

  return { host, port, address };
}

/** A lookup table of resolver overrides, matched on the exact host (case-insensitive) and port. */
export class ResolveMap {
  #addresses = new Map<string, string>();

  /** Builds the table. A later entry for the same host and port replaces an earlier one. */
  constructor(entries: ResolveEntry[] = []) {
    for (const entry of entries) {
      this.#addresses.set(resolveKey(entry.host, entry.port), entry.address);
    }
  }

  /** Returns the override address for `host:port`, or `undefined` when there is none. */
  addressFor(host: string, port: number): string | undefined {
    return this.#addresses.get(resolveKey(host, port));
  }
}

function resolveKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}
