/**
 * Decoders for the SPIFFE Workload API messages that carry X.509 trust bundles, from the
 * `workload.proto` of the SPIFFE Workload API standard:
 *
 * - `X509BundlesResponse`: `repeated bytes crl = 1`, `map<string, bytes> bundles = 2`.
 * - `X509SVIDResponse`: `repeated X509SVID svids = 1`, `repeated bytes crl = 2`,
 *   `map<string, bytes> federated_bundles = 3`.
 * - `X509SVID`: `string spiffe_id = 1`, `bytes x509_svid = 2`, `bytes x509_svid_key = 3`,
 *   `bytes bundle = 4`, `string hint = 5`.
 *
 * Bundles are concatenated DER certificates, keyed by trust domain (`spiffe://example.org`).
 * The SVID's certificate and private key are skipped without being copied or kept.
 *
 * @module
 */
import { lengthDelimited, readFields, stringField } from "./_protobuf.ts";

/** The X.509 CA certificates of one trust domain, as the Workload API sent them. */
export interface X509TrustBundle {
  /** Trust domain name without the `spiffe://` scheme, e.g. `example.org`. */
  trustDomain: string;
  /** Concatenated DER certificates; empty when the server sent an empty bundle. */
  der: Uint8Array;
  /**
   * Whether the bundle belongs to a foreign trust domain. Known only from `FetchX509SVID`, whose
   * own and federated bundles are separate fields; undefined for `FetchX509Bundles`.
   */
  federated?: boolean;
}

const X509_BUNDLES_RESPONSE = { bundles: 2 };
const X509_SVID_RESPONSE = { svids: 1, federatedBundles: 3 };
const X509_SVID = { spiffeId: 1, bundle: 4 };
const MAP_ENTRY = { key: 1, value: 2 };

/** Decodes an `X509BundlesResponse` into one bundle per trust domain, in wire order. */
export function decodeX509BundlesResponse(message: Uint8Array): X509TrustBundle[] {
  const bundles: X509TrustBundle[] = [];
  for (const field of readFields(message)) {
    if (field.fieldNumber !== X509_BUNDLES_RESPONSE.bundles) continue;
    const entry = decodeMapEntry(lengthDelimited(field, "bundles"), "bundles");
    bundles.push({ trustDomain: trustDomainName(entry.key), der: entry.value });
  }
  return bundles;
}

/**
 * Decodes an `X509SVIDResponse` into the bundles it carries: the bundle of each SVID's own
 * trust domain (once per trust domain) and every federated bundle.
 */
export function decodeX509SvidResponse(message: Uint8Array): X509TrustBundle[] {
  const own = new Map<string, X509TrustBundle>();
  const federated: X509TrustBundle[] = [];
  for (const field of readFields(message)) {
    if (field.fieldNumber === X509_SVID_RESPONSE.svids) {
      const svid = decodeSvidBundle(lengthDelimited(field, "svids"));
      if (!own.has(svid.trustDomain)) own.set(svid.trustDomain, { ...svid, federated: false });
    } else if (field.fieldNumber === X509_SVID_RESPONSE.federatedBundles) {
      const entry = decodeMapEntry(
        lengthDelimited(field, "federated_bundles"),
        "federated_bundles",
      );
      federated.push({
        trustDomain: trustDomainName(entry.key),
        der: entry.value,
        federated: true,
      });
    }
  }
  return [...own.values(), ...federated];
}

/** Reads the SPIFFE ID and bundle of an `X509SVID`; the certificate and key fields are skipped. */
function decodeSvidBundle(message: Uint8Array): { trustDomain: string; der: Uint8Array } {
  let spiffeId = "";
  let der: Uint8Array = new Uint8Array(0);
  for (const field of readFields(message)) {
    if (field.fieldNumber === X509_SVID.spiffeId) spiffeId = stringField(field, "spiffe_id");
    if (field.fieldNumber === X509_SVID.bundle) der = lengthDelimited(field, "bundle");
  }
  return { trustDomain: trustDomainName(spiffeId), der };
}

function decodeMapEntry(message: Uint8Array, name: string): { key: string; value: Uint8Array } {
  let key = "";
  let value: Uint8Array = new Uint8Array(0);
  for (const field of readFields(message)) {
    if (field.fieldNumber === MAP_ENTRY.key) key = stringField(field, `${name} key`);
    if (field.fieldNumber === MAP_ENTRY.value) value = lengthDelimited(field, `${name} value`);
  }
  return { key, value };
}

/**
 * Returns the trust domain of a SPIFFE ID or trust domain key: `spiffe://example.org/ns/x`
 * and `spiffe://example.org` both give `example.org`; a key without the scheme is kept as is.
 */
export function trustDomainName(id: string): string {
  const match = /^spiffe:\/\/([^/]*)/i.exec(id);
  return (match ? match[1] : id).toLowerCase();
}
