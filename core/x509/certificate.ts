/**
 * Certificate facts: the fields trustwatch reports for one X.509 certificate, read from DER.
 *
 * Facts are decoded by a small DER reader rather than node:crypto `X509Certificate`, because
 * Deno 2.9.6's `X509Certificate` rejects certificates that Go and OpenSSL accept (UTCTime
 * without seconds), drops leading zeros from serials and prints names one attribute per line.
 * Decoding is fast (about 25 µs a certificate); checking the signature of a self-signed
 * certificate is the expensive part.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DerError, readElement, toHex } from "./_der.ts";
import { type CertificateStructure, decodeCertificateStructure } from "./_certificate_structure.ts";
import { formatDistinguishedName } from "./_distinguished_name.ts";
import { publicKeyFacts } from "./_public_key.ts";
import { signatureAlgorithmName, verifyCertificateSignature } from "./_signature.ts";
import { decodeSubjectAltName, SUBJECT_ALT_NAME_OID } from "./_subject_alt_name.ts";

/** What trustwatch reports about one certificate. */
export interface CertificateFacts {
  /** The certificate's DER encoding. */
  der: Uint8Array;
  /** Subject as one RFC 4514 line, most specific first: `CN=webhook.ns.svc,O=Acme`. */
  subject: string;
  /** Issuer, in the same format as {@linkcode CertificateFacts.subject}. */
  issuer: string;
  /** Serial number as uppercase hex from the DER bytes, `-` first when negative. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  /** IP SANs: dotted IPv4, or compressed lowercase IPv6. */
  ipAddresses: string[];
  /** "RSA", "ECDSA", "Ed25519", "Ed448", "DSA", "X25519", "X448", or the key algorithm OID. */
  keyAlgorithm: string;
  /** Key size in bits: RSA modulus, EC curve size, 256 for Ed25519, or 0 when unknown. */
  keySize: number;
  /** Go crypto/x509 name ("SHA256-RSA", "ECDSA-SHA256", "SHA256-RSAPSS"), or the OID. */
  signatureAlgorithm: string;
  /** Whether subject equals issuer and the signature verifies with the certificate's own key. */
  selfSigned: boolean;
  /** Whether basicConstraints says cA: TRUE. */
  isCA: boolean;
  /** SHA-256 of the DER, uppercase hex without separators. */
  fingerprintSha256: string;
}

/** The input is not a certificate, or a certificate that cannot be decoded. */
export class CertificateParseError extends Error {
  override name = "CertificateParseError";
}

const BASIC_CONSTRAINTS_OID = "2.5.29.19";

/**
 * Reads the facts of one DER certificate.
 *
 * @throws {CertificateParseError} when `der` is not exactly one well-formed certificate.
 * @example
 * ```ts
 * const facts = certificateFactsFromDer(der);
 * console.log(facts.subject, facts.notAfter.toISOString());
 * ```
 */
export function certificateFactsFromDer(der: Uint8Array): CertificateFacts {
  try {
    return factsFromStructure(der, decodeCertificateStructure(der));
  } catch (error) {
    if (error instanceof DerError) {
      throw new CertificateParseError(`invalid certificate: ${error.message}`);
    }
    throw error;
  }
}

function factsFromStructure(der: Uint8Array, structure: CertificateStructure): CertificateFacts {
  const subject = formatDistinguishedName(der, structure.elements.subject);
  const issuer = formatDistinguishedName(der, structure.elements.issuer);
  const key = publicKeyFacts(der, structure.elements.subjectPublicKeyInfo);

  const subjectAltName = structure.extensions.get(SUBJECT_ALT_NAME_OID);
  const names = subjectAltName
    ? decodeSubjectAltName(subjectAltName.value)
    : { dnsNames: [], ipAddresses: [] };

  const fingerprintSha256 = createHash("sha256").update(der).digest("hex").toUpperCase();
  const selfSigned = sameBytes(structure.subject, structure.issuer) &&
    verifiesWithOwnKey(structure, fingerprintSha256);

  return {
    der,
    subject,
    issuer,
    serial: formatSerial(structure.serialNumber),
    notBefore: structure.notBefore,
    notAfter: structure.notAfter,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    signatureAlgorithm: signatureAlgorithmName(structure.signatureAlgorithm),
    selfSigned,
    isCA: isCertificateAuthority(structure),
    fingerprintSha256,
  };
}

// Signature checks cost 0.2 to 0.9 ms each in Deno 2.9.6 (RSA-2048 to RSA-4096 and P-256,
// measured on the development container), and clusters repeat the same CA certificate in
// many objects (kube-root-ca.crt is in every namespace), so results are kept by fingerprint.
const selfSignatureResults = new Map<string, boolean>();
const MAX_CACHED_SELF_SIGNATURES = 10_000;

function verifiesWithOwnKey(structure: CertificateStructure, fingerprint: string): boolean {
  const cached = selfSignatureResults.get(fingerprint);
  if (cached !== undefined) return cached;

  const verified = verifyCertificateSignature(structure, structure.subjectPublicKeyInfo);
  if (selfSignatureResults.size >= MAX_CACHED_SELF_SIGNATURES) selfSignatureResults.clear();
  selfSignatureResults.set(fingerprint, verified);
  return verified;
}

// The serial is formatted from the DER bytes, not from a number, so leading zeros survive
// ("0A1B", not "A1B"). Only the sign byte that DER adds before a high bit is dropped.
function formatSerial(bytes: Uint8Array): string {
  if (bytes[0] >= 0x80) {
    // Negative serials are invalid (RFC 5280 4.1.2.2) but occur. They print as "-" and the magnitude.
    const magnitude = BigInt(`0x${toHex(bytes)}`) - (1n << BigInt(bytes.length * 8));
    const hex = (-magnitude).toString(16).toUpperCase();
    return `-${hex.length % 2 ? "0" : ""}${hex}`;
  }
  const unsigned = bytes.length > 1 && bytes[0] === 0 && bytes[1] >= 0x80
    ? bytes.subarray(1)
    : bytes;
  return toHex(unsigned);
}

function isCertificateAuthority(structure: CertificateStructure): boolean {
  const extension = structure.extensions.get(BASIC_CONSTRAINTS_OID);
  if (!extension) return false;

  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
  const sequence = readElement(extension.value, 0);
  if (sequence.contentStart === sequence.end) return false;
  const first = readElement(extension.value, sequence.contentStart, sequence.end);
  return first.tag === 0x01 && extension.value[first.contentStart] !== 0;
}

/** Returns whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
