/**
 * Certificates from PKCS#7 / CMS SignedData (RFC 5652), the "certs-only" bundles that
 * `openssl crl2pkcs7` and Windows write. Only the certificates field is read.
 *
 * @module
 */
import { childrenOf, decodeOid, DerError, encodingOf, expectElement, TAG } from "./_der.ts";

const SIGNED_DATA_OID = "1.2.840.113549.1.7.2";
const CERTIFICATES_TAG = 0xa0;

/** Whether `bytes` starts like a ContentInfo holding SignedData. Never throws. */
export function looksLikePkcs7(bytes: Uint8Array): boolean {
  try {
    const contentInfo = expectElement(bytes, 0, bytes.length, TAG.sequence, "ContentInfo");
    const contentType = expectElement(
      bytes,
      contentInfo.contentStart,
      contentInfo.end,
      TAG.oid,
      "contentType",
    );
    return decodeOid(bytes, contentType) === SIGNED_DATA_OID;
  } catch {
    return false;
  }
}

/**
 * Returns the DER of each certificate in a SignedData ContentInfo, in order. Other certificate
 * choices (attribute certificates) are skipped. Throws a DerError on malformed input.
 */
export function certificatesFromPkcs7(bytes: Uint8Array): Uint8Array[] {
  // NOTE: DER only. BER indefinite lengths, which some old tools write, are rejected by the reader.
  const contentInfo = expectElement(bytes, 0, bytes.length, TAG.sequence, "ContentInfo");
  const [contentType, explicitContent] = childrenOf(bytes, contentInfo);
  if (decodeOid(bytes, contentType) !== SIGNED_DATA_OID) {
    throw new DerError(`PKCS#7 content type ${decodeOid(bytes, contentType)} is not SignedData`);
  }
  if (explicitContent?.tag !== 0xa0) throw new DerError("PKCS#7 SignedData has no content");

  const signedData = expectElement(
    bytes,
    explicitContent.contentStart,
    explicitContent.end,
    TAG.sequence,
    "SignedData",
  );
  const certificates = childrenOf(bytes, signedData).find((field) =>
    field.tag === CERTIFICATES_TAG
  );
  if (!certificates) return [];
  return childrenOf(bytes, certificates)
    .filter((choice) => choice.tag === TAG.sequence)
    .map((choice) => encodingOf(bytes, choice).slice());
}
