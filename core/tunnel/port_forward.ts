/**
 * A local port-forward, as `kubectl port-forward` makes: a listener on 127.0.0.1 whose every
 * connection becomes one port-forward WebSocket (`v4.channel.k8s.io`) to a Pod port, through the
 * API server, with `@kubernetes/client-node`'s PortForward.
 *
 * @module
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import type { KubeClient } from "../kube/client.ts";
import { errorMessage } from "../probe/probe_failure.ts";

/** Logger for port-forward events, matching `@logtape/logtape`'s `Logger` methods. */
export interface PortForwardLogger {
  debug(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
}

/** A running local port-forward. */
export interface LocalPortForward {
  /** Local port on 127.0.0.1 that leads to the Pod port. */
  port: number;
  /** `namespace/pod:port`, for messages. */
  target: string;
  /** Stops listening and closes every forwarded connection. */
  close(): Promise<void>;
}

/** The WebSocket client-node returns, with the `ws` events used here. */
interface ForwardSocket {
  close(): void;
  on(event: "close", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
}

/**
 * Starts listening on 127.0.0.1 and forwards each accepted connection to `pod:port` in
 * `namespace`. An error the API server or kubelet reports on a connection (no such Pod, nothing
 * listening on the port) closes that connection and is logged, so the client sees a reset.
 */
export async function startPortForward(
  kube: KubeClient,
  target: { namespace: string; pod: string; port: number },
  logger?: PortForwardLogger,
): Promise<LocalPortForward> {
  const { PortForward } = await import("@kubernetes/client-node");
  const forward = new PortForward(kube.kubeConfig, true);
  const label = `${target.namespace}/${target.pod}:${target.port}`;
  const open = new Set<{ socket: Socket; webSocket?: ForwardSocket }>();

  const server = createServer((socket) => {
    const connection: { socket: Socket; webSocket?: ForwardSocket } = { socket };
    open.add(connection);
    socket.on("error", () => socket.destroy());
    socket.once("close", () => {
      open.delete(connection);
      connection.webSocket?.close();
    });
    // Nothing is read until the WebSocket is open, so early bytes stay buffered in the socket.
    socket.pause();

    const errors = new Writable({
      write(chunk: Uint8Array, _encoding, done) {
        const message = new TextDecoder().decode(chunk).trim();
        if (message) {
          logger?.warn("port-forward to {target} failed: {message}", { target: label, message });
          socket.destroy();
        }
        done();
      },
    });

    forward.portForward(target.namespace, target.pod, [target.port], socket, errors, socket)
      .then((result) => {
        const webSocket = (typeof result === "function" ? result() : result) as
          | ForwardSocket
          | null;
        if (!webSocket) {
          socket.destroy();
          return;
        }
        connection.webSocket = webSocket;
        webSocket.on("error", (error) => {
          logger?.debug("port-forward WebSocket to {target} failed: {error}", {
            target: label,
            error: errorMessage(error),
          });
          socket.destroy();
        });
        webSocket.on("close", () => socket.end());
        if (socket.destroyed) webSocket.close();
        else socket.resume();
      })
      .catch((error) => {
        logger?.warn("port-forward to {target} could not be opened: {error}", {
          target: label,
          error: describeUpgradeError(error),
        });
        socket.destroy();
      });
  });
  server.on("error", (error) => {
    logger?.warn("port-forward listener for {target} failed: {error}", {
      target: label,
      error: errorMessage(error),
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  logger?.debug("port-forward 127.0.0.1:{port} -> {target} listening", { port, target: label });

  let closing: Promise<void> | undefined;
  return {
    port,
    target: label,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const connection of open) {
          connection.webSocket?.close();
          connection.socket.destroy();
        }
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** Returns the message of a failed WebSocket upgrade, which `ws` reports as an ErrorEvent. */
function describeUpgradeError(error: unknown): string {
  const event = error as { message?: unknown; error?: unknown };
  if (event?.error instanceof Error) return errorMessage(event.error);
  if (typeof event?.message === "string") return event.message;
  return errorMessage(error);
}
