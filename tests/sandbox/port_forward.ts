/**
 * The sandbox's port-forward endpoint: a WebSocket with the `v4.channel.k8s.io` protocol that the
 * kubelet speaks, bridged to a loopback port. Channel 0 carries data and channel 1 errors, and the
 * first frame on each channel is the forwarded port as two little-endian bytes.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { badRequest } from "./status.ts";

/** WebSocket subprotocol of port-forward that the sandbox speaks. */
export const PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";

const DATA_CHANNEL = 0;
const ERROR_CHANNEL = 1;

const logger = getLogger(["trustwatch", "sandbox", "portforward"]);

/** Where a port-forward goes: a loopback port, or an error the kubelet would report. */
export type ForwardTarget = { port: number } | { error: string };

/**
 * Upgrades a port-forward request to a WebSocket and bridges it to the target's loopback port.
 * Throws a 400 Status when the client did not offer {@linkcode PORT_FORWARD_PROTOCOL} or named
 * not exactly one port.
 */
export function servePortForward(
  request: Request,
  url: URL,
  podLabel: string,
  resolveTarget: (port: number) => ForwardTarget,
): Response {
  const offered = (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((protocol) => protocol.trim());
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw badRequest("port-forward needs a WebSocket upgrade request");
  }
  if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
    throw badRequest(`port-forward needs the ${PORT_FORWARD_PROTOCOL} WebSocket protocol`);
  }
  const ports = url.searchParams.getAll("ports").flatMap((value) => value.split(","));
  const port = Number(ports[0]);
  if (ports.length !== 1 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw badRequest(
      `port-forward needs exactly one port in ?ports=, got ${JSON.stringify(ports)}`,
    );
  }

  // Deno rejects the comma-separated protocol list the ws client sends when `protocol` is passed
  // to upgradeWebSocket, so the chosen protocol is set on the response instead.
  const { socket, response } = Deno.upgradeWebSocket(request);
  response.headers.set("sec-websocket-protocol", PORT_FORWARD_PROTOCOL);
  socket.binaryType = "arraybuffer";
  bridge(socket, port, podLabel, resolveTarget(port));
  return response;
}

function bridge(socket: WebSocket, port: number, podLabel: string, target: ForwardTarget): void {
  const pending: Uint8Array[] = [];
  let connection: Deno.TcpConn | undefined;
  let writing = Promise.resolve();
  let closed = false;
  // Writes are chained so that frames reach the connection in arrival order.
  const enqueueWrite = (data: Uint8Array) => {
    writing = writing.then(() => writeAll(connection!, data)).catch(close);
  };

  const close = () => {
    if (closed) return;
    closed = true;
    try {
      connection?.close();
    } catch {
      // Already closed by the other side.
    }
    if (socket.readyState === WebSocket.OPEN) socket.close();
  };

  socket.onmessage = (event) => {
    const frame = new Uint8Array(event.data as ArrayBuffer);
    if (frame[0] !== DATA_CHANNEL || frame.length < 2) return;
    const data = frame.slice(1);
    if (connection) enqueueWrite(data);
    else pending.push(data);
  };
  socket.onclose = close;
  socket.onerror = close;

  socket.onopen = async () => {
    const portBytes = [port & 0xff, port >> 8];
    socket.send(Uint8Array.of(DATA_CHANNEL, ...portBytes));
    socket.send(Uint8Array.of(ERROR_CHANNEL, ...portBytes));

    if ("error" in target) {
      sendError(socket, target.error);
      close();
      return;
    }
    try {
      connection = await Deno.connect({ hostname: "127.0.0.1", port: target.port });
    } catch (error) {
      sendError(
        socket,
        `error forwarding port ${port} to pod ${podLabel}: failed to connect to 127.0.0.1:${target.port}: ${
          (error as Error).message
        }`,
      );
      close();
      return;
    }
    logger.debug("port-forward {pod}:{port} connected to 127.0.0.1:{target}", {
      pod: podLabel,
      port,
      target: target.port,
    });
    for (const data of pending.splice(0)) enqueueWrite(data);

    try {
      for await (const chunk of connection.readable) {
        if (socket.readyState !== WebSocket.OPEN) break;
        const frame = new Uint8Array(chunk.length + 1);
        frame[0] = DATA_CHANNEL;
        frame.set(chunk, 1);
        socket.send(frame);
      }
    } catch {
      // The connection was closed from the WebSocket side.
    }
    close();
  };
}

function sendError(socket: WebSocket, message: string): void {
  const text = new TextEncoder().encode(message);
  const frame = new Uint8Array(text.length + 1);
  frame[0] = ERROR_CHANNEL;
  frame.set(text, 1);
  socket.send(frame);
}

async function writeAll(connection: Deno.TcpConn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await connection.write(data.subarray(written));
}
