/**
 * Signature algorithms: Go crypto/x509 style names, and verification of a certificate's
 * signature with an issuer's public key through node:crypto.
 *
 * `X509Certificate.verify` in Deno 2.9.6 returns false for valid RSA-PSS signatures and throws
 * "Unsupported EC curve" for P-521, so this module calls `crypto.verify` on the TBSCertificate
 * with the hash and padding named by the signature algorithm instead.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { constants, createPublicKey, type KeyObject, verify } from "node:crypto";
import { childrenOf, decodeOid, readElement } from "./_der.ts";
import type { AlgorithmIdentifier, CertificateStructure } from "./_certificate_structure.ts";

interface SignatureScheme {
  /** Go crypto/x509 name. */
  name: string;
  /** node:crypto digest name, or null for algorithms that hash internally (Ed25519, Ed448). */
  hash: string | null;
}

const RSA_PSS_OID = "1.2.840.113549.1.1.10";

const SCHEMES: Record<string, SignatureScheme> = {
  "1.2.840.113549.1.1.2": { name: "MD2-RSA", hash: "md2" },
  "1.2.840.113549.1.1.4": { name: "MD5-RSA", hash: "md5" },
  "1.2.840.113549.1.1.5": { name: "SHA1-RSA", hash: "sha1" },
  "1.3.14.3.2.29": { name: "SHA1-RSA", hash: "sha1" },
  "1.2.840.113549.1.1.14": { name: "SHA224-RSA", hash: "sha224" },
  "1.2.840.113549.1.1.11": { name: "SHA256-RSA", hash: "sha256" },
  "1.2.840.113549.1.1.12": { name: "SHA384-RSA", hash: "sha384" },
  "1.2.840.113549.1.1.13": { name: "SHA512-RSA", hash: "sha512" },
  "1.2.840.10040.4.3": { name: "DSA-SHA1", hash: "sha1" },
  "2.16.840.1.101.3.4.3.2": { name: "DSA-SHA256", hash: "sha256" },
  "1.2.840.10045.4.1": { name: "ECDSA-SHA1", hash: "sha1" },
  "1.2.840.10045.4.3.1": { name: "ECDSA-SHA224", hash: "sha224" },
  "1.2.840.10045.4.3.2": { name: "ECDSA-SHA256", hash: "sha256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA-SHA384", hash: "sha384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA-SHA512", hash: "sha512" },
  "1.3.101.112": { name: "Ed25519", hash: null },
  "1.3.101.113": { name: "Ed448", hash: null },
};

const HASH_OIDS: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

/** RSASSA-PSS defaults from RFC 4055: SHA-1 and a 20-byte salt. */
const PSS_DEFAULT_HASH = "sha1";
const PSS_DEFAULT_SALT_LENGTH = 20;

interface PssParameters {
  hash: string;
  saltLength: number;
}

/** Names a signature algorithm as Go does ("SHA256-RSA", "ECDSA-SHA256"), or returns its OID. */
export function signatureAlgorithmName(algorithm: AlgorithmIdentifier): string {
  if (algorithm.oid === RSA_PSS_OID) {
    const hash = pssParameters(algorithm)?.hash;
    return hash ? `${hash.toUpperCase()}-RSAPSS` : algorithm.oid;
  }
  return SCHEMES[algorithm.oid]?.name ?? algorithm.oid;
}

function pssParameters(algorithm: AlgorithmIdentifier): PssParameters | undefined {
  const result = { hash: PSS_DEFAULT_HASH, saltLength: PSS_DEFAULT_SALT_LENGTH };
  if (!algorithm.parameters) return result;
  try {
    const bytes = algorithm.parameters;
    for (const field of childrenOf(bytes, readElement(bytes, 0))) {
      const inner = readElement(bytes, field.contentStart, field.end);
      if (field.tag === 0xa0) {
        const hash = HASH_OIDS[decodeOid(bytes, childrenOf(bytes, inner)[0])];
        if (!hash) return undefined;
        result.hash = hash;
      } else if (field.tag === 0xa2) {
        result.saltLength = bytes.subarray(inner.contentStart, inner.end)
          .reduce((value, byte) => value * 256 + byte, 0);
      }
    }
    return result;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `certificate` was signed by the key in `issuerPublicKeyInfo` (DER
 * SubjectPublicKeyInfo). Returns false for a wrong key, a malformed signature, or an algorithm
 * that node:crypto cannot verify (MD2, DSA in Deno), and never throws.
 */
export function verifyCertificateSignature(
  certificate: CertificateStructure,
  issuerPublicKeyInfo: Uint8Array,
): boolean {
  const key = importPublicKey(issuerPublicKeyInfo);
  if (!key) return false;

  const algorithm = certificate.signatureAlgorithm;
  try {
    if (algorithm.oid === RSA_PSS_OID) {
      const pss = pssParameters(algorithm);
      if (!pss) return false;
      return verify(pss.hash, certificate.tbsCertificate, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: pss.saltLength,
      }, certificate.signature);
    }
    const scheme = SCHEMES[algorithm.oid];
    if (!scheme) return false;
    return verify(scheme.hash, certificate.tbsCertificate, key, certificate.signature);
  } catch {
    return false;
  }
}

const importedKeys = new Map<string, KeyObject | null>();
const MAX_CACHED_KEYS = 1000;

function importPublicKey(spki: Uint8Array): KeyObject | null {
  // Chains share issuers, so importing each issuer key once saves most of the work.
  const cacheKey = String.fromCharCode(...spki);
  const cached = importedKeys.get(cacheKey);
  if (cached !== undefined) return cached;

  let key: KeyObject | null = null;
  try {
    key = createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: "der",
      type: "spki",
    });
  } catch {
    key = null;
  }
  if (importedKeys.size >= MAX_CACHED_KEYS) importedKeys.clear();
  importedKeys.set(cacheKey, key);
  return key;
}
