/**
 * Reads exact byte counts from a `node:net` socket for the SOCKS5 handshake, keeping bytes that
 * arrive early (a client may send its request right behind the greeting).
 *
 * @module
 */
import type { Socket } from "node:net";
import type { ByteSource } from "./protocol.ts";

/** The client closed the connection before sending a full message. */
export class ConnectionClosedError extends Error {
  constructor() {
    super("client closed the connection during the SOCKS5 handshake");
    this.name = "ConnectionClosedError";
  }
}

/** Buffers a socket's data and serves `read(n)` calls in order until {@linkcode release}. */
export class SocketByteReader implements ByteSource {
  #socket: Socket;
  #buffered: Uint8Array[] = [];
  #size = 0;
  #ended = false;
  #waiter?: { length: number; resolve: (bytes: Uint8Array) => void; reject: (e: Error) => void };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onEnd);
  }

  read(length: number): Promise<Uint8Array> {
    if (length === 0) return Promise.resolve(new Uint8Array(0));
    if (this.#size >= length) return Promise.resolve(this.#take(length));
    if (this.#ended) return Promise.reject(new ConnectionClosedError());
    return new Promise((resolve, reject) => {
      this.#waiter = { length, resolve, reject };
    });
  }

  /** Stops reading and returns the bytes received beyond the handshake. */
  release(): Uint8Array {
    this.#socket.off("data", this.#onData);
    this.#socket.off("end", this.#onEnd);
    this.#socket.off("close", this.#onEnd);
    this.#socket.pause();
    return this.#take(this.#size);
  }

  #onData = (chunk: Uint8Array) => {
    this.#buffered.push(chunk);
    this.#size += chunk.length;
    const waiter = this.#waiter;
    if (waiter && this.#size >= waiter.length) {
      this.#waiter = undefined;
      waiter.resolve(this.#take(waiter.length));
    }
  };

  #onEnd = () => {
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(new ConnectionClosedError());
  };

  #take(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const chunk = this.#buffered[0];
      const needed = length - offset;
      if (chunk.length <= needed) {
        bytes.set(chunk, offset);
        offset += chunk.length;
        this.#buffered.shift();
      } else {
        bytes.set(chunk.subarray(0, needed), offset);
        this.#buffered[0] = chunk.subarray(needed);
        offset += needed;
      }
    }
    this.#size -= length;
    return bytes;
  }
}
