/**
 * Key algorithm and size from a SubjectPublicKeyInfo, read from DER so that every key type,
 * including ones node:crypto cannot import, gets a name and a size.
 *
 * @module
 */
import {
  bitLength,
  childrenOf,
  contentOf,
  decodeOid,
  DerElement,
  readElement,
  TAG,
} from "./_der.ts";

/** Key algorithm name and size in bits. */
export interface PublicKeyFacts {
  keyAlgorithm: string;
  keySize: number;
}

const EC_CURVE_BITS: Record<string, number> = {
  "1.2.840.10045.3.1.1": 192, // P-192
  "1.3.132.0.33": 224, // P-224
  "1.2.840.10045.3.1.7": 256, // P-256
  "1.3.132.0.10": 256, // secp256k1
  "1.3.132.0.34": 384, // P-384
  "1.3.132.0.35": 521, // P-521
  "1.3.36.3.3.2.8.1.1.7": 256, // brainpoolP256r1
  "1.3.36.3.3.2.8.1.1.11": 384, // brainpoolP384r1
  "1.3.36.3.3.2.8.1.1.13": 512, // brainpoolP512r1
};

const FIXED_SIZE_KEYS: Record<string, PublicKeyFacts> = {
  "1.3.101.110": { keyAlgorithm: "X25519", keySize: 256 },
  "1.3.101.111": { keyAlgorithm: "X448", keySize: 448 },
  "1.3.101.112": { keyAlgorithm: "Ed25519", keySize: 256 },
  "1.3.101.113": { keyAlgorithm: "Ed448", keySize: 448 },
};

const RSA_OIDS = new Set(["1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"]);
const EC_OID = "1.2.840.10045.2.1";
const DSA_OID = "1.2.840.10040.4.1";

/**
 * Reads the key algorithm and size of the SubjectPublicKeyInfo element `spki`. Unknown
 * algorithms report their OID and size 0, and malformed keys of known types throw a DerError.
 */
export function publicKeyFacts(bytes: Uint8Array, spki: DerElement): PublicKeyFacts {
  const [algorithm, publicKey] = childrenOf(bytes, spki);
  const [oidElement, parameters] = childrenOf(bytes, algorithm);
  const oid = decodeOid(bytes, oidElement);

  if (RSA_OIDS.has(oid)) return { keyAlgorithm: "RSA", keySize: rsaModulusBits(bytes, publicKey) };
  if (oid === EC_OID) {
    const curve = parameters?.tag === TAG.oid ? decodeOid(bytes, parameters) : "";
    return { keyAlgorithm: "ECDSA", keySize: EC_CURVE_BITS[curve] ?? 0 };
  }
  if (oid === DSA_OID) {
    const prime = parameters?.tag === TAG.sequence ? childrenOf(bytes, parameters)[0] : undefined;
    return { keyAlgorithm: "DSA", keySize: prime ? bitLength(contentOf(bytes, prime)) : 0 };
  }
  return FIXED_SIZE_KEYS[oid] ?? { keyAlgorithm: oid, keySize: 0 };
}

function rsaModulusBits(bytes: Uint8Array, publicKey: DerElement): number {
  // The BIT STRING holds RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER },
  // after one byte that counts unused bits.
  const rsaPublicKey = readElement(bytes, publicKey.contentStart + 1, publicKey.end);
  const modulus = childrenOf(bytes, rsaPublicKey)[0];
  return bitLength(contentOf(bytes, modulus));
}
