/**
 * SOCKS5 wire format: the method negotiation and CONNECT request of RFC 1928 and the
 * username/password sub-negotiation of RFC 1929, parsed from a byte reader and encoded as replies.
 *
 * @module
 */
import { isIP } from "node:net";

/** Protocol version byte of SOCKS5. */
export const SOCKS_VERSION = 0x05;
/** Version byte of the RFC 1929 username/password sub-negotiation. */
export const AUTH_VERSION = 0x01;

/** Authentication methods of RFC 1928 section 3. */
export const AuthMethod = {
  NONE: 0x00,
  USERNAME_PASSWORD: 0x02,
  NO_ACCEPTABLE: 0xff,
} as const;

/** Request commands of RFC 1928 section 4. Only CONNECT is served. */
export const Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;

/** Address types of RFC 1928 section 5. */
export const AddressType = { IPV4: 0x01, DOMAIN: 0x03, IPV6: 0x04 } as const;

/** Reply codes of RFC 1928 section 6. */
export const Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** A reply code of RFC 1928 section 6. */
export type ReplyCode = typeof Reply[keyof typeof Reply];

/** Reads exactly `length` bytes, or rejects when the connection ends first. */
export interface ByteSource {
  read(length: number): Promise<Uint8Array>;
}

/** The client sent bytes that are not SOCKS5, or a request the server does not serve. */
export class Socks5ProtocolError extends Error {
  /** Reply to send before closing, when the request got far enough for a reply to make sense. */
  readonly reply?: ReplyCode;

  constructor(message: string, reply?: ReplyCode) {
    super(message);
    this.name = "Socks5ProtocolError";
    this.reply = reply;
  }
}

/** The destination of a CONNECT request. */
export interface Destination {
  /** IPv4 or IPv6 literal (IPv6 without brackets), or a domain name. */
  host: string;
  port: number;
  addressType: typeof AddressType[keyof typeof AddressType];
}

/** Reads the method negotiation message and returns the offered methods. */
export async function readGreeting(source: ByteSource): Promise<number[]> {
  const [version, count] = await source.read(2);
  if (version !== SOCKS_VERSION) {
    throw new Socks5ProtocolError(
      `not a SOCKS5 greeting: version byte 0x${hex(version)}, expected 0x05`,
    );
  }
  if (count === 0) throw new Socks5ProtocolError("SOCKS5 greeting offers no methods");
  return [...await source.read(count)];
}

/** Reads an RFC 1929 username/password request. */
export async function readCredentials(
  source: ByteSource,
): Promise<{ username: string; password: string }> {
  const [version, usernameLength] = await source.read(2);
  if (version !== AUTH_VERSION) {
    throw new Socks5ProtocolError(
      `not an RFC 1929 authentication request: version byte 0x${hex(version)}, expected 0x01`,
    );
  }
  const username = await source.read(usernameLength);
  const [passwordLength] = await source.read(1);
  const password = await source.read(passwordLength);
  const decoder = new TextDecoder();
  return { username: decoder.decode(username), password: decoder.decode(password) };
}

/**
 * Reads a request and returns its CONNECT destination. Throws a {@linkcode Socks5ProtocolError}
 * carrying the reply code for other commands and unknown address types.
 */
export async function readConnectRequest(source: ByteSource): Promise<Destination> {
  const [version, command, , addressType] = await source.read(4);
  if (version !== SOCKS_VERSION) {
    throw new Socks5ProtocolError(
      `not a SOCKS5 request: version byte 0x${hex(version)}, expected 0x05`,
      Reply.GENERAL_FAILURE,
    );
  }
  if (command !== Command.CONNECT) {
    throw new Socks5ProtocolError(
      `command 0x${hex(command)} is not supported; only CONNECT (0x01) is`,
      Reply.COMMAND_NOT_SUPPORTED,
    );
  }

  let host: string;
  switch (addressType) {
    case AddressType.IPV4:
      host = [...await source.read(4)].join(".");
      break;
    case AddressType.IPV6:
      host = formatIpv6(await source.read(16));
      break;
    case AddressType.DOMAIN: {
      const [length] = await source.read(1);
      if (length === 0) {
        throw new Socks5ProtocolError("empty domain name in request", Reply.HOST_UNREACHABLE);
      }
      host = new TextDecoder().decode(await source.read(length));
      break;
    }
    default:
      throw new Socks5ProtocolError(
        `address type 0x${hex(addressType)} is not supported`,
        Reply.ADDRESS_TYPE_NOT_SUPPORTED,
      );
  }

  const portBytes = await source.read(2);
  const port = (portBytes[0] << 8) | portBytes[1];
  return { host, port, addressType };
}

/** Encodes a reply with the bound address, or `0.0.0.0:0` when there is none. */
export function encodeReply(
  code: ReplyCode,
  bound?: { address: string; port: number },
): Uint8Array {
  const address = bound?.address ?? "0.0.0.0";
  const port = bound?.port ?? 0;
  const family = isIP(address);
  const addressBytes = family === 6
    ? parseIpv6(address)
    : family === 4
    ? Uint8Array.from(address.split(".").map(Number))
    : new Uint8Array(4);
  const addressType = family === 6 ? AddressType.IPV6 : AddressType.IPV4;

  const reply = new Uint8Array(4 + addressBytes.length + 2);
  reply.set([SOCKS_VERSION, code, 0x00, addressType]);
  reply.set(addressBytes, 4);
  reply[reply.length - 2] = port >> 8;
  reply[reply.length - 1] = port & 0xff;
  return reply;
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, "0");
}

function formatIpv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push(((bytes[index] << 8) | bytes[index + 1]).toString(16));
  }
  // Node's net module accepts the uncompressed form, so no "::" shortening is needed.
  return groups.join(":");
}

/** Parses an IPv6 literal (with `::` and an optional embedded IPv4 tail) into 16 bytes. */
function parseIpv6(address: string): Uint8Array {
  let text = address;
  const tail: number[] = [];
  const ipv4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (ipv4Tail) {
    const octets = ipv4Tail[1].split(".").map(Number);
    tail.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
    text = text.slice(0, -ipv4Tail[1].length) + "0:0";
  }

  const [head, rest] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const restGroups = rest ? rest.split(":") : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [
    ...headGroups,
    ...Array(rest === undefined ? 0 : missing).fill("0"),
    ...restGroups,
  ]
    .map((group) => Number.parseInt(group, 16));
  if (tail.length === 2) groups.splice(6, 2, ...tail);

  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}
