/**
 * A minimal protocol buffers wire-format reader: enough to walk the fields of the few small
 * Workload API messages without a schema or a code generator.
 *
 * @module
 */

/** Wire types of the protobuf encoding. */
export const WIRE_TYPE = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

/** One field read from a message. `bytes` is set for length-delimited fields only. */
export interface WireField {
  fieldNumber: number;
  wireType: number;
  /** Payload of a length-delimited field, a view into the message (not a copy). */
  bytes?: Uint8Array;
}

/** The bytes are not a well-formed protobuf message. */
export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufDecodeError";
  }
}

/**
 * Yields the fields of a message in wire order. Varint and fixed-width fields are skipped over
 * with only their number and type reported, because the Workload API messages read here carry
 * bytes, strings and nested messages only.
 *
 * @throws {ProtobufDecodeError} when a field runs past the end or uses an unknown wire type.
 */
export function* readFields(message: Uint8Array): Generator<WireField> {
  let offset = 0;
  while (offset < message.length) {
    const tag = readVarint(message, offset);
    offset = tag.next;
    const fieldNumber = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (fieldNumber === 0) throw new ProtobufDecodeError(`field number 0 at byte ${offset}`);

    switch (wireType) {
      case WIRE_TYPE.varint:
        offset = readVarint(message, offset).next;
        yield { fieldNumber, wireType };
        break;
      case WIRE_TYPE.fixed64:
        offset = skip(message, offset, 8);
        yield { fieldNumber, wireType };
        break;
      case WIRE_TYPE.fixed32:
        offset = skip(message, offset, 4);
        yield { fieldNumber, wireType };
        break;
      case WIRE_TYPE.lengthDelimited: {
        const length = readVarint(message, offset);
        const end = skip(message, length.next, length.value);
        yield { fieldNumber, wireType, bytes: message.subarray(length.next, end) };
        offset = end;
        break;
      }
      default:
        throw new ProtobufDecodeError(
          `unsupported wire type ${wireType} for field ${fieldNumber}`,
        );
    }
  }
}

/** Returns the payload of a length-delimited field, or throws when the field has another type. */
export function lengthDelimited(field: WireField, name: string): Uint8Array {
  if (field.bytes === undefined) {
    throw new ProtobufDecodeError(`field ${name} has wire type ${field.wireType}, expected bytes`);
  }
  return field.bytes;
}

/** Decodes a length-delimited field as UTF-8 text. */
export function stringField(field: WireField, name: string): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(lengthDelimited(field, name));
}

/**
 * Maximum varint length accepted, in bytes. Eight bytes carry 56 bits, far more than any length
 * or field number of these messages needs.
 */
const MAX_VARINT_BYTES = 8;

function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  for (let index = 0; index < MAX_VARINT_BYTES; index++) {
    if (offset + index >= bytes.length) {
      throw new ProtobufDecodeError(`varint at byte ${offset} runs past the end`);
    }
    const byte = bytes[offset + index];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, next: offset + index + 1 };
    multiplier *= 128;
  }
  throw new ProtobufDecodeError(
    `varint at byte ${offset} is longer than ${MAX_VARINT_BYTES} bytes`,
  );
}

function skip(bytes: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  if (end > bytes.length) {
    throw new ProtobufDecodeError(
      `field of ${length} bytes at byte ${offset} runs past the end (${bytes.length} bytes)`,
    );
  }
  return end;
}
