/**
 * PEM block scanner (RFC 7468). Finds every BEGIN/END pair in text that may hold other lines
 * before, between and after the blocks (openssl text dumps, `#` comments, CRLF line ends).
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** One PEM block: its label and the undecoded body between the BEGIN and END lines. */
export interface PemBlock {
  label: string;
  body: string;
}

/** A PEM block that cannot be read. `index` is 1-based and `label` may be empty. */
export class PemError extends Error {
  constructor(readonly index: number, readonly label: string, message: string) {
    super(message);
  }
}

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `text` contains a PEM BEGIN line. */
export function hasPemBlock(text: string): boolean {
  return text.includes(BEGIN);
}

/** Lists the PEM blocks in `text`, in order. Throws a PemError for a block with no END line. */
export function scanPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let position = text.indexOf(BEGIN);
  while (position >= 0) {
    const index = blocks.length + 1;
    const labelStart = position + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    const label = labelEnd >= 0 ? text.slice(labelStart, labelEnd) : "";
    if (labelEnd < 0 || label.includes("\n")) {
      throw new PemError(
        index,
        "",
        `PEM block ${index} has a BEGIN line without a closing "-----"`,
      );
    }

    const endLine = `${END}${label}${DASHES}`;
    const bodyStart = labelEnd + DASHES.length;
    const endPosition = text.indexOf(endLine, bodyStart);
    const nextBegin = text.indexOf(BEGIN, bodyStart);
    if (endPosition < 0 || (nextBegin >= 0 && nextBegin < endPosition)) {
      throw new PemError(index, label, `PEM block ${index} (${label}) has no "${endLine}" line`);
    }

    blocks.push({ label, body: text.slice(bodyStart, endPosition) });
    position = text.indexOf(BEGIN, endPosition + endLine.length);
  }
  return blocks;
}

/**
 * Decodes a block body to bytes: RFC 1421 header lines (`Proc-Type: …`) are dropped and
 * whitespace is ignored. Returns undefined when the rest is not base64.
 */
export function decodePemBody(body: string): Uint8Array | undefined {
  const base64 = body.split("\n").filter((line) => !line.includes(":")).join("").replace(
    /\s+/g,
    "",
  );
  if (!BASE64.test(base64) || base64.length % 4 === 1) return undefined;
  const buffer = Buffer.from(base64, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
