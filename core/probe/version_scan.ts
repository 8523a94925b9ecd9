/**
 * TLS version scan: which deprecated protocol versions a server still accepts, even when it
 * prefers TLS 1.2 or 1.3. Deno's TLS stack cannot offer TLS 1.0 or 1.1, so each version is
 * offered alone in a hand-written ClientHello on a plain socket, and only the ServerHello is read.
 *
 * @module
 */
import type { Socket } from "node:net";
import { buildClientHello } from "./_client_hello.ts";
import { ServerFlightReader } from "./_server_flight.ts";
import type { DialTarget } from "./dial_target.ts";

/** Deprecated versions probed, with the ClientHello version that offers each alone. */
export const LEGACY_TLS_VERSIONS: readonly { name: string; clientVersion: number }[] = [
  { name: "TLSv1", clientVersion: 0x0301 },
  { name: "TLSv1.1", clientVersion: 0x0302 },
];

/** Time allowed for each version handshake, in milliseconds. */
export const DEFAULT_VERSION_PROBE_TIMEOUT_MS = 3_000;

/** Opens a connected socket to the target, as the prober's dialer does. */
export type DialFunction = (target: DialTarget) => Promise<Socket>;

const PRETTY_NAMES: Record<string, string> = { "TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1" };

/**
 * Returns the names (`TLSv1`, `TLSv1.1`) of the deprecated versions the server accepts, probing
 * each version in `versions` with one short handshake through `dial`, one after another. A
 * version counts as accepted when the server replies with a ServerHello for it; an alert, a
 * closed connection, a timeout or a dial failure counts as not accepted. Never rejects.
 */
export async function scanLegacyVersions(
  target: DialTarget,
  dial: DialFunction,
  options: { timeoutMs?: number; versions?: readonly string[] } = {},
): Promise<string[]> {
  const accepted: string[] = [];
  const requested = options.versions ?? LEGACY_TLS_VERSIONS.map((version) => version.name);
  for (const version of LEGACY_TLS_VERSIONS) {
    if (!requested.includes(version.name) || target.signal.aborted) continue;
    if (await acceptsVersion(target, dial, version, options.timeoutMs)) accepted.push(version.name);
  }
  return accepted;
}

/** Returns the posture sentence for a deprecated version the server accepts. */
export function acceptedVersionIssue(version: string, negotiated: string | undefined): string {
  const name = PRETTY_NAMES[version] ?? version;
  const preference = negotiated && negotiated !== version
    ? `, although it prefers ${PRETTY_NAMES[negotiated] ?? negotiated.replace("TLSv", "TLS ")}`
    : "";
  return `server accepts ${name}, which is deprecated (RFC 8996)${preference}`;
}

async function acceptsVersion(
  target: DialTarget,
  dial: DialFunction,
  version: (typeof LEGACY_TLS_VERSIONS)[number],
  timeoutMs = DEFAULT_VERSION_PROBE_TIMEOUT_MS,
): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort({ code: "TIMEOUT", timeoutMs }), timeoutMs);
  const onAbort = () => controller.abort(target.signal.reason);
  target.signal.addEventListener("abort", onAbort, { once: true });

  let socket: Socket | undefined;
  try {
    socket = await dial({ ...target, signal: controller.signal });
    return await readServerVersion(socket, target, version.clientVersion, controller.signal) ===
      version.name;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    target.signal.removeEventListener("abort", onAbort);
    socket?.destroy();
  }
}

/** Sends the ClientHello and resolves with the version of the ServerHello, or rejects. */
function readServerVersion(
  socket: Socket,
  target: DialTarget,
  clientVersion: number,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new ServerFlightReader(target.peer);
    const done = (outcome: () => void) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners();
      socket.on("error", () => {});
      outcome();
    };
    const onAbort = () => done(() => reject(new Error("version probe aborted")));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });

    socket.on("data", (chunk: Uint8Array) => {
      try {
        const flight = reader.push(chunk);
        if (flight) done(() => resolve(flight.tlsVersion));
      } catch (error) {
        done(() => reject(error));
      }
    });
    socket.once("error", (error) => done(() => reject(error)));
    socket.once("close", () => done(() => reject(new Error("connection closed"))));
    socket.write(buildClientHello(target.serverName, clientVersion));
  });
}
