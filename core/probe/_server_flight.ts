/**
 * Incremental parser for the first flight a TLS 1.2-or-older server sends in the clear:
 * ServerHello and Certificate, split over records or packed several to a record.
 *
 * @module
 */
import { cipherSuiteName, tlsVersionName } from "./cipher_suites.ts";
import { ProbeFailure } from "./probe_failure.ts";

/** Maximum bytes read from a server before giving up on finding its Certificate message. */
export const MAX_SERVER_FLIGHT_BYTES = 256 * 1024;

/** Largest TLSCiphertext fragment a record may carry (RFC 5246 section 6.2.3). */
const MAX_RECORD_FRAGMENT_BYTES = 16_384 + 2048;
const RECORD_HEADER_BYTES = 5;
const HANDSHAKE_HEADER_BYTES = 4;

const CONTENT_TYPE_CHANGE_CIPHER_SPEC = 20;
const CONTENT_TYPE_ALERT = 21;
const CONTENT_TYPE_HANDSHAKE = 22;
const CONTENT_TYPE_APPLICATION_DATA = 23;

const HANDSHAKE_TYPE_SERVER_HELLO = 2;
const HANDSHAKE_TYPE_CERTIFICATE = 11;
const HANDSHAKE_TYPE_SERVER_KEY_EXCHANGE = 12;
const HANDSHAKE_TYPE_SERVER_HELLO_DONE = 14;

const ALERT_LEVEL_WARNING = 1;
const ALERT_CLOSE_NOTIFY = 0;

/** Alert descriptions (RFC 5246 section 7.2 and RFC 8446 section 6). */
const ALERT_NAMES: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  22: "record_overflow",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  47: "illegal_parameter",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  109: "missing_extension",
  110: "unsupported_extension",
  112: "unrecognized_name",
  116: "certificate_required",
  120: "no_application_protocol",
};

/** Facts read from a server's first flight: negotiated version and suite, and the chain. */
export interface ServerFlight {
  tlsVersion: string;
  cipherSuite: string;
  /** DER certificates in the order of the Certificate message, leaf first. */
  chain: Uint8Array[];
}

interface ServerHello {
  version: number;
  cipherSuite: number;
}

function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

function readUint24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 16) | (bytes[offset + 1] << 8) | bytes[offset + 2];
}

/**
 * Describes the start of a non-TLS response for a message: the printable text up to the first
 * line break (`HTTP/1.1 400 Bad Request`), or the first bytes in hex when they are binary.
 */
export function describeLeadingBytes(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 24);
  let text = "";
  for (const byte of head) {
    if (byte < 0x20 || byte > 0x7e) break;
    text += String.fromCharCode(byte);
  }
  if (text.length >= 4 || (text.length > 0 && text.length === head.length)) {
    return `starts with ${JSON.stringify(text)}`;
  }
  const hex = Array.from(head.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0"));
  return `starts with bytes ${hex.join(" ")}`;
}

/**
 * Consumes the bytes a server sends after a ClientHello until its Certificate message is read.
 * `push` returns the flight once complete and `undefined` while more bytes are needed. Both
 * `push` and `end` throw {@linkcode ProbeFailure}: `NOT_TLS` when the response is not TLS, and
 * `HANDSHAKE` for alerts, malformed messages and responses without a certificate.
 */
export class ServerFlightReader {
  readonly #peer: string;
  #records: Uint8Array = new Uint8Array(0);
  #handshake: Uint8Array = new Uint8Array(0);
  #bytesRead = 0;
  #recordsRead = 0;
  #serverHello?: ServerHello;

  /** `peer` names the server (`host:port`) in failure messages. */
  constructor(peer: string) {
    this.#peer = peer;
  }

  /** Feeds the next bytes read from the socket. */
  push(chunk: Uint8Array): ServerFlight | undefined {
    this.#bytesRead += chunk.length;
    if (this.#bytesRead > MAX_SERVER_FLIGHT_BYTES) {
      throw this.#handshakeFailure(
        `sent more than ${MAX_SERVER_FLIGHT_BYTES / 1024} KiB without a Certificate message`,
      );
    }
    this.#records = concatBytes(this.#records, chunk);

    while (this.#records.length >= RECORD_HEADER_BYTES) {
      const contentType = this.#records[0];
      const majorVersion = this.#records[1];
      const length = readUint16(this.#records, 3);
      this.#checkRecordHeader(contentType, majorVersion, length);
      if (this.#records.length < RECORD_HEADER_BYTES + length) break;

      const fragment = this.#records.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length);
      this.#records = this.#records.subarray(RECORD_HEADER_BYTES + length);
      this.#recordsRead += 1;

      const flight = this.#readRecord(contentType, fragment);
      if (flight) return flight;
    }

    if (this.#recordsRead === 0 && this.#records.length > 0) this.#checkFirstByte();
    return undefined;
  }

  /** Reports why the flight is incomplete once the server has closed the connection. */
  end(): never {
    if (this.#bytesRead === 0) {
      throw new ProbeFailure(
        "RESET",
        `${this.#peer} closed the connection without answering the TLS ClientHello`,
      );
    }
    throw this.#handshakeFailure("closed the connection before sending its Certificate message");
  }

  #handshakeFailure(reason: string): ProbeFailure {
    return new ProbeFailure("HANDSHAKE", `${this.#peer} ${reason}`);
  }

  #notTls(): ProbeFailure {
    return new ProbeFailure(
      "NOT_TLS",
      `${this.#peer} answered with non-TLS data (${describeLeadingBytes(this.#records)})`,
    );
  }

  #checkFirstByte(): void {
    const contentType = this.#records[0];
    if (contentType !== CONTENT_TYPE_HANDSHAKE && contentType !== CONTENT_TYPE_ALERT) {
      throw this.#notTls();
    }
  }

  #checkRecordHeader(contentType: number, majorVersion: number, length: number): void {
    const knownType = contentType >= CONTENT_TYPE_CHANGE_CIPHER_SPEC &&
      contentType <= CONTENT_TYPE_APPLICATION_DATA;
    const valid = knownType && majorVersion === 3 && length <= MAX_RECORD_FRAGMENT_BYTES;
    if (valid) return;

    if (this.#recordsRead === 0) throw this.#notTls();
    throw this.#handshakeFailure(
      `sent a malformed TLS record (type ${contentType}, version major ${majorVersion}, ` +
        `length ${length})`,
    );
  }

  #readRecord(contentType: number, fragment: Uint8Array): ServerFlight | undefined {
    switch (contentType) {
      case CONTENT_TYPE_ALERT:
        this.#readAlert(fragment);
        return undefined;
      case CONTENT_TYPE_HANDSHAKE:
        this.#handshake = concatBytes(this.#handshake, fragment);
        return this.#readHandshakeMessages();
      default:
        throw this.#handshakeFailure(
          "switched to encrypted records before sending a certificate",
        );
    }
  }

  #readAlert(fragment: Uint8Array): void {
    if (fragment.length < 2) throw this.#handshakeFailure("sent a truncated TLS alert");

    const level = fragment[0];
    const description = fragment[1];
    // Some servers send unrecognized_name as a warning and carry on with the handshake.
    if (level === ALERT_LEVEL_WARNING && description !== ALERT_CLOSE_NOTIFY) return;

    const name = ALERT_NAMES[description] ?? "unknown";
    throw this.#handshakeFailure(
      `sent TLS alert ${name} (${description}) in reply to a TLS 1.2 ClientHello`,
    );
  }

  #readHandshakeMessages(): ServerFlight | undefined {
    while (this.#handshake.length >= HANDSHAKE_HEADER_BYTES) {
      const type = this.#handshake[0];
      const length = readUint24(this.#handshake, 1);
      const end = HANDSHAKE_HEADER_BYTES + length;
      if (this.#handshake.length < end) return undefined;

      const body = this.#handshake.subarray(HANDSHAKE_HEADER_BYTES, end);
      this.#handshake = this.#handshake.subarray(end);

      switch (type) {
        case HANDSHAKE_TYPE_SERVER_HELLO:
          this.#serverHello = this.#parseServerHello(body);
          break;
        case HANDSHAKE_TYPE_CERTIFICATE:
          return this.#completeFlight(this.#parseCertificateList(body));
        case HANDSHAKE_TYPE_SERVER_KEY_EXCHANGE:
        case HANDSHAKE_TYPE_SERVER_HELLO_DONE:
          throw this.#handshakeFailure(
            "sent no Certificate message (the negotiated cipher suite may be anonymous or PSK)",
          );
      }
    }
    return undefined;
  }

  #parseServerHello(body: Uint8Array): ServerHello {
    // version (2), random (32), session_id (1 + n), cipher_suite (2)
    const sessionIdOffset = 2 + 32;
    if (body.length < sessionIdOffset + 1) throw this.#handshakeFailure("sent a short ServerHello");

    const cipherOffset = sessionIdOffset + 1 + body[sessionIdOffset];
    if (body.length < cipherOffset + 2) throw this.#handshakeFailure("sent a short ServerHello");

    return { version: readUint16(body, 0), cipherSuite: readUint16(body, cipherOffset) };
  }

  #parseCertificateList(body: Uint8Array): Uint8Array[] {
    if (body.length < 3) throw this.#handshakeFailure("sent a short Certificate message");

    const listEnd = 3 + readUint24(body, 0);
    if (listEnd > body.length) {
      throw this.#handshakeFailure("sent a Certificate message whose list overruns it");
    }

    const chain: Uint8Array[] = [];
    let offset = 3;
    while (offset < listEnd) {
      if (offset + 3 > listEnd) throw this.#handshakeFailure("sent a truncated certificate entry");
      const certificateEnd = offset + 3 + readUint24(body, offset);
      if (certificateEnd > listEnd) {
        throw this.#handshakeFailure("sent a certificate entry that overruns its list");
      }
      chain.push(body.slice(offset + 3, certificateEnd));
      offset = certificateEnd;
    }

    if (chain.length === 0) throw this.#handshakeFailure("sent an empty certificate list");
    return chain;
  }

  #completeFlight(chain: Uint8Array[]): ServerFlight {
    if (!this.#serverHello) {
      throw this.#handshakeFailure("sent a Certificate message before its ServerHello");
    }
    return {
      tlsVersion: tlsVersionName(this.#serverHello.version),
      cipherSuite: cipherSuiteName(this.#serverHello.cipherSuite),
      chain,
    };
  }
}
