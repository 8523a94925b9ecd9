/**
 * The normal handshake path: `node:tls` without verification, reading the chain the server sent.
 *
 * @module
 */
import type { Socket } from "node:net";
import { connect, type DetailedPeerCertificate, type TLSSocket } from "node:tls";
import { abortReasonOf, type DialTarget, type HandshakeFacts } from "./dial_target.ts";
import { abortFailure, errorMessage, ProbeFailure, transportFailure } from "./probe_failure.ts";

/**
 * Time a finished handshake's connection may take to close gracefully before it is destroyed, in
 * milliseconds. Over a dialer's socket the client's last handshake flight is still being written
 * when `secureConnect` fires, so an immediate destroy would leave the server with a broken
 * handshake.
 */
const GRACEFUL_CLOSE_MS = 2_000;

/** Upper bound on the chain length read, so a malformed issuer link cannot loop forever. */
const MAX_CHAIN_LENGTH = 32;

/**
 * Walks `getPeerCertificate(true)` from the leaf through `issuerCertificate` and copies each DER.
 * The walk stops at a self-reference, a repeated certificate or a missing link.
 */
export function peerChainDer(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  let certificate: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);

  while (certificate?.raw && !seen.has(certificate) && chain.length < MAX_CHAIN_LENGTH) {
    seen.add(certificate);
    chain.push(new Uint8Array(certificate.raw));
    certificate = certificate.issuerCertificate;
  }
  return chain;
}

/**
 * Performs a TLS handshake with `node:tls` and returns the served chain, protocol and cipher.
 * Trust is not checked here. Runs over `connectedSocket` when given (a socket from a dialer), and
 * otherwise connects to `target.address` itself. The socket is destroyed when the handshake
 * ends. Rejects with a {@linkcode ProbeFailure}: transport codes for socket errors, `HANDSHAKE`
 * for every TLS-level failure, `TIMEOUT` or `CANCELLED` when `target.signal` aborts.
 */
export function handshakeWithNodeTls(
  target: DialTarget,
  connectedSocket?: Socket,
): Promise<HandshakeFacts> {
  const { signal, peer } = target;
  if (signal.aborted) {
    connectedSocket?.destroy();
    return Promise.reject(abortFailure(abortReasonOf(signal), peer, connectedSocket !== undefined));
  }

  return new Promise((resolve, reject) => {
    let connected = connectedSocket !== undefined;
    // An empty servername turns SNI off, so IP literals are never sent as SNI. No `ca` is given:
    // with an explicit `ca`, Deno 2.9.6 appends the trusted root to getPeerCertificate's chain.
    const socket = connect({
      ...(connectedSocket
        ? { socket: connectedSocket }
        : { host: target.address, port: target.port }),
      servername: target.serverName ?? "",
      rejectUnauthorized: false,
    });

    const finish = (outcome: () => void, graceful = false) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners();
      socket.on("error", () => {});
      connectedSocket?.on("error", () => {});
      if (graceful && connectedSocket) {
        socket.end();
        const closer = setTimeout(() => {
          socket.destroy();
          connectedSocket.destroy();
        }, GRACEFUL_CLOSE_MS);
        Deno.unrefTimer(closer);
      } else {
        socket.destroy();
        connectedSocket?.destroy();
      }
      outcome();
    };
    const onAbort = () => {
      finish(() => reject(abortFailure(abortReasonOf(signal), peer, connected)));
    };
    signal.addEventListener("abort", onAbort, { once: true });

    socket.once("connect", () => {
      connected = true;
    });
    socket.once("secureConnect", () => {
      const cipher = socket.getCipher();
      const facts: HandshakeFacts = {
        chain: peerChainDer(socket),
        tlsVersion: socket.getProtocol() ?? undefined,
        cipherSuite: cipher?.standardName ?? cipher?.name,
      };
      finish(() => resolve(facts), true);
    });
    socket.once("error", (error) => {
      const failure = transportFailure(error, peer) ??
        new ProbeFailure("HANDSHAKE", `TLS handshake with ${peer} failed: ${errorMessage(error)}`);
      finish(() => reject(failure));
    });
    socket.once("close", () => {
      const failure = new ProbeFailure(
        "RESET",
        `${peer} closed the connection before the TLS handshake finished`,
      );
      finish(() => reject(failure));
    });
  });
}
