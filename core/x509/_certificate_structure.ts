/**
 * Decodes the parts of an X.509 certificate that trustwatch reports or verifies, straight from
 * DER. Tolerates fieldName Go and OpenSSL tolerate (negative serials, UTCTime without seconds,
 * version 1 certificates) and rejects anything that is not a certificate.
 *
 * @module
 */
import {
  childrenOf,
  contentOf,
  decodeOid,
  DerElement,
  DerError,
  encodingOf,
  expectElement,
  TAG,
} from "./_der.ts";

/** An AlgorithmIdentifier: OID plus the encoded parameters, if any. */
export interface AlgorithmIdentifier {
  oid: string;
  /** The whole parameters element (tag included), or undefined when absent. */
  parameters?: Uint8Array;
}

/** One extension: criticality and the content of its extnValue OCTET STRING. */
export interface Extension {
  critical: boolean;
  value: Uint8Array;
}

/** The decoded certificate. Byte fields are views into the DER passed to the decoder. */
export interface CertificateStructure {
  version: number;
  tbsCertificate: Uint8Array;
  /** Content bytes of the serialNumber INTEGER, in two's complement. */
  serialNumber: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  /** The issuer Name element, used for name comparison when building chains. */
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfo: Uint8Array;
  /** Extensions by OID. */
  extensions: Map<string, Extension>;
  /** Signature bits, without the BIT STRING's unused-bits byte. */
  signature: Uint8Array;
  /** Root elements for callers that need to walk further. */
  elements: { issuer: DerElement; subject: DerElement; subjectPublicKeyInfo: DerElement };
}

/**
 * Decodes a DER certificate. `der` must hold exactly one certificate and nothing after it.
 * Throws a DerError that names the malformed field.
 */
export function decodeCertificateStructure(der: Uint8Array): CertificateStructure {
  const certificate = expectElement(der, 0, der.length, TAG.sequence, "Certificate SEQUENCE");
  if (certificate.end !== der.length) {
    throw new DerError(
      `${der.length - certificate.end} bytes of trailing data after the certificate`,
    );
  }
  const tbs = expectElement(
    der,
    certificate.contentStart,
    certificate.end,
    TAG.sequence,
    "TBSCertificate",
  );
  const outerAlgorithm = expectElement(
    der,
    tbs.end,
    certificate.end,
    TAG.sequence,
    "signatureAlgorithm",
  );
  const signature = expectElement(
    der,
    outerAlgorithm.end,
    certificate.end,
    TAG.bitString,
    "signatureValue",
  );
  if (signature.end !== certificate.end) throw new DerError("unexpected data after signatureValue");
  if (signature.end === signature.contentStart) throw new DerError("empty signatureValue");

  const fields = childrenOf(der, tbs);
  let index = 0;
  let version = 1;
  if (fields[index]?.tag === 0xa0) {
    const versionElement = expectElement(
      der,
      fields[index].contentStart,
      fields[index].end,
      TAG.integer,
      "version",
    );
    version = contentOf(der, versionElement).reduce((value, byte) => value * 256 + byte, 0) + 1;
    index++;
  }
  const serial = requireField(fields[index++], TAG.integer, "serialNumber");
  requireField(
    fields[index++],
    TAG.sequence,
    "signature AlgorithmIdentifier",
  );
  const issuer = requireField(fields[index++], TAG.sequence, "issuer Name");
  const validity = requireField(fields[index++], TAG.sequence, "validity");
  const subject = requireField(fields[index++], TAG.sequence, "subject Name");
  const subjectPublicKeyInfo = requireField(fields[index++], TAG.sequence, "subjectPublicKeyInfo");
  if (contentOf(der, serial).length === 0) throw new DerError("empty serialNumber");

  const [notBefore, notAfter] = childrenOf(der, validity);
  if (!notBefore || !notAfter) throw new DerError("validity needs notBefore and notAfter");

  let extensions = new Map<string, Extension>();
  for (const field of fields.slice(index)) {
    if (field.tag === 0xa3) extensions = decodeExtensions(der, field);
    else if (field.tag !== 0x81 && field.tag !== 0x82) {
      throw new DerError(`unexpected TBSCertificate field with tag 0x${field.tag.toString(16)}`);
    }
  }

  return {
    version,
    tbsCertificate: encodingOf(der, tbs),
    serialNumber: contentOf(der, serial),
    signatureAlgorithm: decodeAlgorithm(der, outerAlgorithm),
    issuer: encodingOf(der, issuer),
    subject: encodingOf(der, subject),
    notBefore: decodeTime(der, notBefore, "notBefore"),
    notAfter: decodeTime(der, notAfter, "notAfter"),
    subjectPublicKeyInfo: encodingOf(der, subjectPublicKeyInfo),
    extensions,
    signature: der.subarray(signature.contentStart + 1, signature.end),
    elements: { issuer, subject, subjectPublicKeyInfo },
  };
}

function requireField(field: DerElement | undefined, tag: number, fieldName: string): DerElement {
  if (!field) throw new DerError(`TBSCertificate ends before ${fieldName}`);
  if (field.tag !== tag) {
    throw new DerError(
      `expected ${fieldName} (tag 0x${tag.toString(16)}), found tag 0x${field.tag.toString(16)}`,
    );
  }
  return field;
}

/** Decodes an AlgorithmIdentifier SEQUENCE. */
export function decodeAlgorithm(bytes: Uint8Array, element: DerElement): AlgorithmIdentifier {
  const [oid, parameters] = childrenOf(bytes, element);
  if (!oid) throw new DerError("empty AlgorithmIdentifier");
  return {
    oid: decodeOid(bytes, oid),
    parameters: parameters ? encodingOf(bytes, parameters) : undefined,
  };
}

function decodeExtensions(der: Uint8Array, wrapper: DerElement): Map<string, Extension> {
  const extensions = new Map<string, Extension>();
  const list = expectElement(der, wrapper.contentStart, wrapper.end, TAG.sequence, "Extensions");
  for (const extension of childrenOf(der, list)) {
    const parts = childrenOf(der, extension);
    const oid = decodeOid(der, parts[0]);
    const critical = parts.length === 3 && parts[1].tag === TAG.boolean &&
      der[parts[1].contentStart] !== 0;
    const value = parts[parts.length - 1];
    if (value?.tag !== TAG.octetString) throw new DerError(`extension ${oid} has no extnValue`);
    extensions.set(oid, { critical, value: contentOf(der, value) });
  }
  return extensions;
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/;
const GENERALIZED_TIME =
  /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/;

function decodeTime(der: Uint8Array, element: DerElement, fieldName: string): Date {
  const text = new TextDecoder("latin1").decode(contentOf(der, element));
  let parts: RegExpMatchArray | null;
  let year: number;
  if (element.tag === TAG.utcTime && (parts = text.match(UTC_TIME))) {
    // RFC 5280 4.1.2.5.1: two-digit years 50..99 are 19xx, 00..49 are 20xx.
    const shortYear = Number(parts[1]);
    year = shortYear >= 50 ? 1900 + shortYear : 2000 + shortYear;
  } else if (element.tag === TAG.generalizedTime && (parts = text.match(GENERALIZED_TIME))) {
    year = Number(parts[1]);
  } else {
    throw new DerError(
      `${fieldName} is not a valid UTCTime or GeneralizedTime ("${text.slice(0, 20)}")`,
    );
  }

  const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(parts![i] ?? 0));
  const fraction = element.tag === TAG.generalizedTime ? Number(`0.${parts[7] ?? 0}`) : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Math.floor(fraction * 1000));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new DerError(`${fieldName} is not a valid date ("${text}")`);
  }

  const zone = element.tag === TAG.utcTime ? parts[7] : parts[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
    date.setTime(date.getTime() - sign * offsetMinutes * 60_000);
  }
  return date;
}
