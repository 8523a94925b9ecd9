/**
 * The fallback handshake path: a hand-written TLS 1.2 ClientHello on a plain TCP socket, reading
 * the server's Certificate message, which TLS 1.2 and older send in the clear.
 *
 * Deno's `node:tls` is rustls-based, so it rejects TLS 1.0 and 1.1 servers and RSA keys under
 * 2048 bits. This path still returns their chain so the analysis can report what is weak.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { buildClientHello } from "./_client_hello.ts";
import { ServerFlightReader } from "./_server_flight.ts";
import { abortReasonOf, type DialTarget, type HandshakeFacts } from "./dial_target.ts";
import { abortFailure, errorMessage, ProbeFailure, transportFailure } from "./probe_failure.ts";

/**
 * Sends a TLS 1.2-or-older ClientHello, reads ServerHello and Certificate, then closes the
 * socket without finishing the handshake. Returns the version, cipher suite and chain the server
 * sent. Runs over `connectedSocket` when given (a socket from a dialer), and otherwise connects
 * to `target.address` itself. Rejects with a {@linkcode ProbeFailure}: `NOT_TLS`, `HANDSHAKE` for
 * alerts and malformed responses, transport codes for socket errors, `TIMEOUT` or `CANCELLED`
 * when `target.signal` aborts.
 *
 * NOTE: a server that accepts only TLS 1.3 replies with a protocol_version alert here, because
 * TLS 1.3 encrypts the Certificate message.
 */
export function handshakeLegacy(
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
    const reader = new ServerFlightReader(peer);
    const socket = connectedSocket ?? connect({ host: target.address, port: target.port });

    const finish = (outcome: () => void) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      outcome();
    };
    const fail = (error: unknown) => {
      const failure = error instanceof ProbeFailure ? error : new ProbeFailure(
        "HANDSHAKE",
        `legacy TLS handshake with ${peer} failed: ${errorMessage(error)}`,
      );
      finish(() => reject(failure));
    };
    const onAbort = () => {
      finish(() => reject(abortFailure(abortReasonOf(signal), peer, connected)));
    };
    signal.addEventListener("abort", onAbort, { once: true });

    if (connected) {
      socket.write(buildClientHello(target.serverName));
    } else {
      socket.once("connect", () => {
        connected = true;
        socket.write(buildClientHello(target.serverName));
      });
    }
    socket.on("data", (chunk: Uint8Array) => {
      try {
        const flight = reader.push(chunk);
        if (flight) finish(() => resolve(flight));
      } catch (error) {
        fail(error);
      }
    });
    socket.once("end", () => {
      try {
        reader.end();
      } catch (error) {
        fail(error);
      }
    });
    socket.once("error", (error) => fail(transportFailure(error, peer) ?? error));
    socket.once("close", () => {
      try {
        reader.end();
      } catch (error) {
        fail(error);
      }
    });
  });
}
