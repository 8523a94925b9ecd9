/**
 * Minimal DER reader: enough ASN.1 to walk certificates and PKCS#7 SignedData without a full
 * ASN.1 library. Every read checks bounds and throws {@linkcode DerError} on malformed input.
 *
 * @module
 */

/** Malformed DER: truncated data, an unexpected tag or an unsupported encoding. */
export class DerError extends Error {
  override name = "DerError";
}

/** DER tags used by certificates and PKCS#7. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  numericString: 0x12,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  visibleString: 0x1a,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV element: offsets into the buffer it was read from. */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the last content byte. */
  end: number;
}

const MAX_LENGTH_BYTES = 4;

/** Reads the element that starts at `offset` and must end at or before `limit`. */
export function readElement(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new DerError(`truncated element at offset ${offset}`);
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at offset ${offset}`);

  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length === 0x80) throw new DerError(`indefinite length (BER) at offset ${offset}`);
  if (length > 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes > MAX_LENGTH_BYTES) throw new DerError(`length too large at offset ${offset}`);
    if (contentStart + lengthBytes > limit) throw new DerError(`truncated length at ${offset}`);
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + bytes[contentStart + i];
    contentStart += lengthBytes;
  }

  const end = contentStart + length;
  if (end > limit) {
    throw new DerError(`element at offset ${offset} needs ${end - limit} bytes more than present`);
  }
  return { tag, start: offset, contentStart, end };
}

/** Reads an element and checks its tag. `fieldName` names the field in the error message. */
export function expectElement(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  tag: number,
  fieldName: string,
): DerElement {
  // The tag is checked before the length, so non-DER input gets the clearer message.
  if (offset < limit && bytes[offset] !== tag) {
    throw new DerError(
      `expected ${fieldName} (tag 0x${hexByte(tag)}), found tag 0x${hexByte(bytes[offset])}`,
    );
  }
  return readElement(bytes, offset, limit);
}

/** Returns the elements directly inside a constructed element. */
export function childrenOf(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readElement(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Returns the content bytes of an element, without copying. */
export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** Returns the whole element (tag, length and content), without copying. */
export function encodingOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** Decodes an OBJECT IDENTIFIER element into dotted form ("1.2.840.113549.1.1.11"). */
export function decodeOid(bytes: Uint8Array, element: DerElement): string {
  if (element.tag !== TAG.oid) throw new DerError(`expected an OID at offset ${element.start}`);
  const content = contentOf(bytes, element);
  if (content.length === 0) throw new DerError(`empty OID at offset ${element.start}`);

  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join(".");
}

/** Formats bytes as uppercase hex without separators. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += hexByte(byte);
  return hex;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0").toUpperCase();
}

/** Returns the bit length of an unsigned big-endian integer (leading zero bytes ignored). */
export function bitLength(magnitude: Uint8Array): number {
  let index = 0;
  while (index < magnitude.length && magnitude[index] === 0) index++;
  if (index === magnitude.length) return 0;
  return (magnitude.length - index - 1) * 8 + (32 - Math.clz32(magnitude[index]));
}
