import assert from "node:assert/strict";
import {
  decodeX509BundlesResponse,
  decodeX509SvidResponse,
  trustDomainName,
} from "../../../core/spiffe/messages.ts";
import { ProtobufDecodeError } from "../../../core/spiffe/_protobuf.ts";

/** A length-prefixed UTF-8 string as the wire format writes it (length below 128). */
function text(value: string): number[] {
  const bytes = new TextEncoder().encode(value);
  return [bytes.length, ...bytes];
}

/**
 * `X509BundlesResponse` with one CRL (field 1) and one bundle (field 2) for `spiffe://a.b`
 * holding the bytes 30 00, written out from the wire format.
 */
const ENTRY = [0x0a, ...text("spiffe://a.b"), 0x12, 0x02, 0x30, 0x00];
const BUNDLES_RESPONSE = new Uint8Array([0x0a, 0x01, 0xff, 0x12, ENTRY.length, ...ENTRY]);

Deno.test("X509BundlesResponse decodes map entries", () => {
  assert.deepEqual(decodeX509BundlesResponse(BUNDLES_RESPONSE), [
    { trustDomain: "a.b", der: new Uint8Array([0x30, 0x00]) },
  ]);
});

Deno.test("X509BundlesResponse rejects a truncated field", () => {
  assert.throws(
    () => decodeX509BundlesResponse(BUNDLES_RESPONSE.subarray(0, 8)),
    ProtobufDecodeError,
  );
});

Deno.test("X509SVIDResponse skips the SVID and its key", () => {
  const svid = [
    0x0a,
    ...text("spiffe://a.b/work"), // spiffe_id
    0x12,
    0x01,
    0x01, // x509_svid
    0x1a,
    0x03,
    0x6b,
    0x65,
    0x79, // x509_svid_key: "key"
    0x22,
    0x01,
    0x30, // bundle
    0x28,
    0x96,
    0x01, // an unknown varint field 5 (150), as newer servers may send
  ];
  const federatedEntry = [
    0x0a,
    ...text("spiffe://c.d"),
    0x12,
    0x01,
    0x31,
  ];
  const message = new Uint8Array([
    0x0a,
    svid.length,
    ...svid,
    0x0a,
    svid.length,
    ...svid, // a second SVID of the same trust domain
    0x1a,
    federatedEntry.length,
    ...federatedEntry,
  ]);
  const bundles = decodeX509SvidResponse(message);
  assert.deepEqual(bundles, [
    { trustDomain: "a.b", der: new Uint8Array([0x30]), federated: false },
    { trustDomain: "c.d", der: new Uint8Array([0x31]), federated: true },
  ]);
});

Deno.test("trust domain names drop scheme and path", () => {
  assert.equal(trustDomainName("spiffe://Example.org"), "example.org");
  assert.equal(trustDomainName("spiffe://example.org/ns/default/sa/web"), "example.org");
  assert.equal(trustDomainName("example.org"), "example.org");
});
