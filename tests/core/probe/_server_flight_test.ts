import assert from "node:assert/strict";
import { buildClientHello } from "../../../core/probe/_client_hello.ts";
import {
  describeLeadingBytes,
  MAX_SERVER_FLIGHT_BYTES,
  type ServerFlight,
  ServerFlightReader,
} from "../../../core/probe/_server_flight.ts";
import { ProbeFailure } from "../../../core/probe/probe_failure.ts";

const PEER = "127.0.0.1:8443";
const LEAF = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
const INTERMEDIATE = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02]);

function uint24(value: number): number[] {
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

function handshakeMessage(type: number, body: number[]): number[] {
  return [type, ...uint24(body.length), ...body];
}

function serverHello(version: number, cipherSuite: number): number[] {
  const random = new Array(32).fill(7);
  const sessionId = [4, 1, 2, 3, 4];
  return handshakeMessage(2, [
    version >> 8,
    version & 0xff,
    ...random,
    ...sessionId,
    cipherSuite >> 8,
    cipherSuite & 0xff,
    0,
  ]);
}

function certificateMessage(certificates: Uint8Array[]): number[] {
  const entries = certificates.flatMap((der) => [...uint24(der.length), ...der]);
  return handshakeMessage(11, [...uint24(entries.length), ...entries]);
}

function record(contentType: number, fragment: number[]): Uint8Array {
  return new Uint8Array([
    contentType,
    3,
    1,
    fragment.length >> 8,
    fragment.length & 0xff,
    ...fragment,
  ]);
}

function alert(level: number, description: number): Uint8Array {
  return record(21, [level, description]);
}

function feed(reader: ServerFlightReader, chunks: Uint8Array[]): ServerFlight | undefined {
  for (const chunk of chunks) {
    const flight = reader.push(chunk);
    if (flight) return flight;
  }
  return undefined;
}

function assertProbeFailure(action: () => unknown, code: string, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ProbeFailure, String(error));
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  });
}

const EXPECTED_FLIGHT: ServerFlight = {
  tlsVersion: "TLSv1",
  cipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  chain: [LEAF, INTERMEDIATE],
};

Deno.test("ServerFlightReader reads several messages in one record", () => {
  const messages = [
    ...serverHello(0x0301, 0xc013),
    ...certificateMessage([LEAF, INTERMEDIATE]),
    ...handshakeMessage(14, []),
  ];

  const flight = new ServerFlightReader(PEER).push(record(22, messages));

  assert.deepEqual(flight, EXPECTED_FLIGHT);
});

Deno.test("ServerFlightReader reads a message split across records and chunks", () => {
  const certificate = certificateMessage([LEAF, INTERMEDIATE]);
  const bytes = new Uint8Array([
    ...record(22, serverHello(0x0301, 0xc013)),
    ...record(22, certificate.slice(0, 5)),
    ...record(22, certificate.slice(5, 11)),
    ...record(22, certificate.slice(11)),
  ]);
  const reader = new ServerFlightReader(PEER);

  const oneByteChunks = Array.from(bytes, (byte) => new Uint8Array([byte]));
  const flight = feed(reader, oneByteChunks);

  assert.deepEqual(flight, EXPECTED_FLIGHT);
});

Deno.test("ServerFlightReader skips a warning alert before the ServerHello", () => {
  const reader = new ServerFlightReader(PEER);

  const flight = feed(reader, [
    alert(1, 112),
    record(22, [...serverHello(0x0303, 0x009c), ...certificateMessage([LEAF])]),
  ]);

  assert.deepEqual(flight, {
    tlsVersion: "TLSv1.2",
    cipherSuite: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    chain: [LEAF],
  });
});

Deno.test("ServerFlightReader names unknown versions and suites in hex", () => {
  const reader = new ServerFlightReader(PEER);

  const flight = reader.push(
    record(22, [...serverHello(0x0303, 0xc0ff), ...certificateMessage([LEAF])]),
  );

  assert.equal(flight?.cipherSuite, "0xC0FF");
});

Deno.test("ServerFlightReader names a fatal alert", () => {
  const reader = new ServerFlightReader(PEER);

  assertProbeFailure(
    () => reader.push(alert(2, 70)),
    "HANDSHAKE",
    `${PEER} sent TLS alert protocol_version (70) in reply to a TLS 1.2 ClientHello`,
  );
});

Deno.test("ServerFlightReader reports non-TLS data with its first text", () => {
  const reader = new ServerFlightReader(PEER);
  const answer = new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n");

  assertProbeFailure(
    () => reader.push(answer),
    "NOT_TLS",
    `${PEER} answered with non-TLS data (starts with "HTTP/1.1 400 Bad Request")`,
  );
});

Deno.test("ServerFlightReader reports a ServerHelloDone without a certificate", () => {
  const reader = new ServerFlightReader(PEER);
  const messages = [...serverHello(0x0303, 0xc013), ...handshakeMessage(14, [])];

  assertProbeFailure(
    () => reader.push(record(22, messages)),
    "HANDSHAKE",
    `${PEER} sent no Certificate message (the negotiated cipher suite may be anonymous or PSK)`,
  );
});

Deno.test("ServerFlightReader reports an empty certificate list", () => {
  const reader = new ServerFlightReader(PEER);
  const messages = [...serverHello(0x0303, 0xc013), ...certificateMessage([])];

  assertProbeFailure(
    () => reader.push(record(22, messages)),
    "HANDSHAKE",
    `${PEER} sent an empty certificate list`,
  );
});

Deno.test("ServerFlightReader reports a certificate entry that overruns its list", () => {
  const reader = new ServerFlightReader(PEER);
  const certificate = certificateMessage([LEAF]);
  certificate[9] = 0x40;

  assertProbeFailure(
    () => reader.push(record(22, [...serverHello(0x0303, 0xc013), ...certificate])),
    "HANDSHAKE",
    `${PEER} sent a certificate entry that overruns its list`,
  );
});

Deno.test("ServerFlightReader stops after the byte cap", () => {
  const reader = new ServerFlightReader(PEER);
  const header = record(22, serverHello(0x0303, 0xc013));
  // A handshake message that announces 16 MiB keeps the reader waiting for more bytes.
  const hugeMessageStart = record(22, [11, 0xff, 0xff, 0xff]);
  const filler = record(22, new Array(16_000).fill(0));
  const chunks = [header, hugeMessageStart];
  let total = header.length + hugeMessageStart.length;
  while (total <= MAX_SERVER_FLIGHT_BYTES) {
    chunks.push(filler);
    total += filler.length;
  }

  assertProbeFailure(
    () => feed(reader, chunks),
    "HANDSHAKE",
    `${PEER} sent more than 256 KiB without a Certificate message`,
  );
});

Deno.test("ServerFlightReader reports a close before the certificate", () => {
  const silent = new ServerFlightReader(PEER);
  const partial = new ServerFlightReader(PEER);
  partial.push(record(22, serverHello(0x0303, 0xc013)));

  assertProbeFailure(
    () => silent.end(),
    "RESET",
    `${PEER} closed the connection without answering the TLS ClientHello`,
  );
  assertProbeFailure(
    () => partial.end(),
    "HANDSHAKE",
    `${PEER} closed the connection before sending its Certificate message`,
  );
});

Deno.test("describeLeadingBytes shows text or hex", () => {
  assert.equal(
    describeLeadingBytes(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n")),
    'starts with "SSH-2.0-OpenSSH_9.6"',
  );
  assert.equal(
    describeLeadingBytes(new Uint8Array([0, 1, 2, 0xff])),
    "starts with bytes 00 01 02 ff",
  );
});

Deno.test("buildClientHello writes one TLS 1.0 record with a TLS 1.2 ClientHello", () => {
  const hello = buildClientHello("sni.test");

  assert.deepEqual([...hello.subarray(0, 3)], [22, 3, 1]);
  assert.equal((hello[3] << 8) | hello[4], hello.length - 5);
  assert.equal(hello[5], 1);
  assert.deepEqual([...hello.subarray(9, 11)], [3, 3]);
  assert.ok(new TextDecoder().decode(hello).includes("sni.test"));
  assert.ok(!new TextDecoder().decode(buildClientHello()).includes("sni.test"));
});
