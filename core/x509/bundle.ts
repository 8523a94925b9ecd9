/**
 * Certificate bundles: PEM files with any number of blocks, single or concatenated DER
 * certificates, PKCS#7 certs-only bundles, and Kubernetes caBundle fields.
 *
 * An unreadable CERTIFICATE block among readable ones is listed in `invalidBlocks` with the
 * reason, and the readable certificates are still returned, so callers report both the broken
 * block and every certificate that does parse. A bundle with no readable certificate throws.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { CertificateFacts, certificateFactsFromDer, CertificateParseError } from "./certificate.ts";
import { childrenOf, DerError, readElement, TAG } from "./_der.ts";
import { decodePemBody, hasPemBlock, PemError, scanPemBlocks } from "./_pem.ts";
import { certificatesFromPkcs7, looksLikePkcs7 } from "./_pkcs7.ts";

/** The certificates found in a bundle, and what else was in it. */
export interface ParsedBundle {
  /** Every certificate, in file order. */
  certificates: CertificateFacts[];
  format: "pem" | "der" | "pkcs7" | "empty";
  /** PEM blocks of private keys that were skipped: never decoded, never echoed. */
  privateKeyBlocks: number;
  /** Labels of other PEM blocks that were skipped, such as "X509 CRL". */
  ignoredBlocks: string[];
  /** CERTIFICATE blocks that did not parse, each with the reason, e.g. "PEM block 4 (…) is not…". */
  invalidBlocks: string[];
}

/** How a Kubernetes caBundle was encoded after the API server's own base64 decoding. */
export type CaBundleEncoding = "pem" | "base64-pem" | "der";

const CERTIFICATE_LABELS = new Set(["CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"]);
const PKCS7_LABELS = new Set(["PKCS7", "PKCS #7 SIGNED DATA", "CMS"]);
const PRIVATE_KEY_LABEL = /PRIVATE KEY$/;
const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;
/** Printable characters of unrecognised input shown in errors, so a message never leaks a secret. */
const MAX_ECHOED_CHARACTERS = 4;

const utf8 = new TextDecoder("utf-8");

/**
 * Reads every certificate in PEM, DER or PKCS#7 input. Empty or whitespace-only input gives
 * format "empty" and no certificates.
 *
 * @throws {CertificateParseError} when the input contains no certificate or an unreadable one.
 * The message describes what was found and never contains key material.
 * @example
 * ```ts
 * const bundle = parseCertificateBundle(await Deno.readFile("tls.crt"));
 * for (const certificate of bundle.certificates) console.log(certificate.subject);
 * ```
 */
export function parseCertificateBundle(bytes: Uint8Array): ParsedBundle {
  if (isBlank(bytes)) {
    return {
      certificates: [],
      format: "empty",
      privateKeyBlocks: 0,
      ignoredBlocks: [],
      invalidBlocks: [],
    };
  }

  const text = utf8.decode(bytes);
  if (hasPemBlock(text)) return parsePem(text);
  if (bytes[0] === TAG.sequence && isDerSequence(bytes)) return parseDer(bytes);
  throw unrecognisedInput(bytes, text);
}

/**
 * Decodes a Kubernetes caBundle (the bytes after the API's base64 decoding). Accepts PEM,
 * base64 of PEM (encoded twice by mistake) and DER. `encoding` names the form found, so callers
 * can report a caBundle that is not PEM even though its certificates were read.
 *
 * @throws {CertificateParseError} when the caBundle contains no certificate.
 */
export function decodeCaBundle(bytes: Uint8Array): ParsedBundle & { encoding: CaBundleEncoding } {
  if (isBlank(bytes)) return { ...parseCertificateBundle(bytes), encoding: "pem" };

  const text = utf8.decode(bytes);
  if (hasPemBlock(text)) return { ...parsePem(text), encoding: "pem" };

  const decoded = decodeBase64Text(text);
  if (decoded && hasPemBlock(utf8.decode(decoded))) {
    return { ...parsePem(utf8.decode(decoded)), encoding: "base64-pem" };
  }
  return { ...parseCertificateBundle(bytes), encoding: "der" };
}

function parsePem(text: string): ParsedBundle {
  let blocks;
  try {
    blocks = scanPemBlocks(text);
  } catch (error) {
    if (error instanceof PemError) throw new CertificateParseError(error.message);
    throw error;
  }

  const certificates: CertificateFacts[] = [];
  const ignoredBlocks: string[] = [];
  const invalidBlocks: CertificateParseError[] = [];
  let privateKeyBlocks = 0;
  let certificateBlocks = 0;
  let pkcs7Blocks = 0;

  for (const [position, block] of blocks.entries()) {
    const index = position + 1;
    if (PRIVATE_KEY_LABEL.test(block.label)) {
      privateKeyBlocks++;
    } else if (CERTIFICATE_LABELS.has(block.label) || PKCS7_LABELS.has(block.label)) {
      const isPkcs7 = PKCS7_LABELS.has(block.label);
      if (isPkcs7) pkcs7Blocks++;
      else certificateBlocks++;
      try {
        certificates.push(
          ...isPkcs7
            ? certificatesFromPkcs7Block(index, block.label, block.body)
            : [certificateFromBlock(index, block.label, block.body)],
        );
      } catch (error) {
        if (!(error instanceof CertificateParseError)) throw error;
        invalidBlocks.push(error);
      }
    } else {
      ignoredBlocks.push(block.label);
    }
  }

  if (certificates.length === 0) {
    if (invalidBlocks.length > 0) throw invalidBlocks[0];
    if (privateKeyBlocks > 0) {
      throw new CertificateParseError("contains a private key but no certificate");
    }
    if (pkcs7Blocks > 0) throw new CertificateParseError("PKCS#7 bundle contains no certificates");
    throw new CertificateParseError(
      `contains no certificate, only PEM blocks of type ${
        ignoredBlocks.join(", ")
      }; expected a CERTIFICATE block`,
    );
  }
  const format = certificateBlocks === 0 && pkcs7Blocks > 0 ? "pkcs7" : "pem";
  return {
    certificates,
    format,
    privateKeyBlocks,
    ignoredBlocks,
    invalidBlocks: invalidBlocks.map((error) => error.message),
  };
}

function certificateFromBlock(index: number, label: string, body: string): CertificateFacts {
  const prefix = `PEM block ${index} (${label}) is not a valid certificate`;
  const der = decodePemBody(body);
  if (!der) throw new CertificateParseError(`${prefix}: the body is not base64`);
  if (der.length === 0) throw new CertificateParseError(`${prefix}: the block is empty`);

  try {
    // OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate, which are
    // dropped here.
    const length = label === "TRUSTED CERTIFICATE" ? readElement(der, 0).end : der.length;
    return certificateFactsFromDer(der.slice(0, length));
  } catch (error) {
    if (error instanceof CertificateParseError || error instanceof DerError) {
      throw new CertificateParseError(
        `${prefix}: ${error.message.replace(/^invalid certificate: /, "")}`,
      );
    }
    throw error;
  }
}

function certificatesFromPkcs7Block(
  index: number,
  label: string,
  body: string,
): CertificateFacts[] {
  const der = decodePemBody(body);
  if (!der || der.length === 0) {
    throw new CertificateParseError(
      `PEM block ${index} (${label}) is not valid PKCS#7: the body is not base64`,
    );
  }
  try {
    return certificatesFromPkcs7(der).map((certificate) => certificateFactsFromDer(certificate));
  } catch (error) {
    if (error instanceof CertificateParseError || error instanceof DerError) {
      throw new CertificateParseError(
        `PEM block ${index} (${label}) is not valid PKCS#7: ${error.message}`,
      );
    }
    throw error;
  }
}

function parseDer(bytes: Uint8Array): ParsedBundle {
  const empty = { privateKeyBlocks: 0, ignoredBlocks: [], invalidBlocks: [] };
  if (looksLikePkcs7(bytes)) {
    let certificates: CertificateFacts[];
    try {
      certificates = certificatesFromPkcs7(bytes).map((certificate) =>
        certificateFactsFromDer(certificate)
      );
    } catch (error) {
      if (error instanceof CertificateParseError || error instanceof DerError) {
        throw new CertificateParseError(`DER data is not valid PKCS#7: ${error.message}`);
      }
      throw error;
    }
    if (certificates.length === 0) {
      throw new CertificateParseError("PKCS#7 bundle contains no certificates");
    }
    return { certificates, format: "pkcs7", ...empty };
  }
  if (looksLikePrivateKey(bytes)) {
    throw new CertificateParseError("contains a private key but no certificate");
  }

  // Several DER certificates written back to back (`cat a.der b.der`) are read in order.
  const certificates: CertificateFacts[] = [];
  let offset = 0;
  while (offset < bytes.length && !isBlank(bytes.subarray(offset))) {
    try {
      const element = readElement(bytes, offset);
      certificates.push(certificateFactsFromDer(bytes.slice(offset, element.end)));
      offset = element.end;
    } catch (error) {
      if (error instanceof CertificateParseError || error instanceof DerError) {
        const source = certificates.length === 0
          ? "DER data"
          : `DER certificate ${certificates.length + 1}`;
        throw new CertificateParseError(
          `${source} is not a valid certificate: ${
            error.message.replace(/^invalid certificate: /, "")
          }`,
        );
      }
      throw error;
    }
  }
  return { certificates, format: "der", ...empty };
}

function isDerSequence(bytes: Uint8Array): boolean {
  try {
    readElement(bytes, 0);
    return true;
  } catch {
    return false;
  }
}

// PKCS#8, PKCS#1 and SEC 1 private keys all start with a small version INTEGER, where a
// certificate starts with the TBSCertificate SEQUENCE.
function looksLikePrivateKey(bytes: Uint8Array): boolean {
  try {
    const first = childrenOf(bytes, readElement(bytes, 0))[0];
    return first?.tag === TAG.integer && first.end - first.contentStart === 1 &&
      bytes[first.contentStart] <= 1;
  } catch {
    return false;
  }
}

function unrecognisedInput(bytes: Uint8Array, text: string): CertificateParseError {
  const decoded = decodeBase64Text(text);
  if (decoded) {
    const decodedText = utf8.decode(decoded);
    if (decodedText.includes("PRIVATE KEY") || looksLikePrivateKey(decoded)) {
      return new CertificateParseError("contains a base64-encoded private key but no certificate");
    }
    if (hasPemBlock(decodedText)) {
      return new CertificateParseError(
        `base64-encoded PEM (${
          describeStart(bytes)
        }); expected PEM, so decode the base64 once more`,
      );
    }
    // Checks only the first byte, because such text is often a truncated copy of a certificate.
    if (decoded[0] === TAG.sequence) {
      return new CertificateParseError(
        `base64 DER without PEM BEGIN/END lines (${
          describeStart(bytes)
        }); expected a PEM block starting with "-----BEGIN CERTIFICATE-----"`,
      );
    }
  }
  if (text.includes("PRIVATE KEY")) {
    return new CertificateParseError("contains a private key but no certificate");
  }
  return new CertificateParseError(
    `not PEM, DER or PKCS#7 (${describeStart(bytes)}); expected a certificate`,
  );
}

function decodeBase64Text(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, "");
  if (compact.length < 4 || compact.length % 4 === 1 || !BASE64_TEXT.test(compact)) {
    return undefined;
  }
  const buffer = Buffer.from(compact, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function describeStart(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length && isWhitespace(bytes[start])) start++;
  const head = bytes.subarray(start, start + MAX_ECHOED_CHARACTERS);
  if (!head.every((byte) => byte >= 0x20 && byte < 0x7f)) {
    return `binary data starting with byte 0x${
      head[0].toString(16).padStart(2, "0").toUpperCase()
    }`;
  }
  const more = bytes.length - start > MAX_ECHOED_CHARACTERS ? "…" : "";
  return `first bytes "${String.fromCharCode(...head)}${more}"`;
}

function isBlank(bytes: Uint8Array): boolean {
  return bytes.every(isWhitespace);
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0b ||
    byte === 0x0c;
}
