/**
 * The CSV output of `trustwatch now -o csv`: one row per finding, healthy ones included, with a
 * header row and RFC 4180 quoting, for spreadsheets and inventory scripts.
 *
 * @module
 */
import type { Finding, Snapshot } from "../../core/model.ts";

/** Columns of the CSV output, in order; each is the JSON field of the same name. */
export const CSV_COLUMNS = [
  "name",
  "namespace",
  "source",
  "severity",
  "notAfter",
  "issuer",
  "serial",
  "findingType",
  "remediation",
  "probeOk",
] as const satisfies readonly (keyof Finding)[];

/** RFC 4180 line break, between records and after the last one. */
const RECORD_SEPARATOR = "\r\n";

/**
 * Renders every finding of a snapshot as CSV: a header row, then one record per finding in the
 * snapshot's order. Fields with a comma, quote, CR or LF are quoted and inner quotes doubled.
 */
export function renderCsv(snapshot: Snapshot): string {
  const records = [
    CSV_COLUMNS.map(quoteField),
    ...snapshot.findings.map((finding) =>
      CSV_COLUMNS.map((column) => quoteField(fieldText(finding[column])))
    ),
  ];
  return records.map((record) => record.join(",")).join(RECORD_SEPARATOR) + RECORD_SEPARATOR;
}

function fieldText(value: string | boolean | undefined): string {
  if (value === undefined) return "";
  return String(value);
}

/** Quotes one field as RFC 4180 requires: only when needed, doubling inner quotes. */
export function quoteField(text: string): string {
  const printable = withoutTerminalControls(text);
  if (!/[",\r\n]/.test(printable)) return printable;
  return `"${printable.replaceAll('"', '""')}"`;
}

/**
 * Drops control characters other than tab and line breaks (which CSV quoting carries), so a
 * value from a hostile certificate or object cannot send escape sequences to a terminal.
 */
function withoutTerminalControls(text: string): string {
  return Array.from(text, (character) => {
    const code = character.codePointAt(0)!;
    const isControl = (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
      (code >= 0x7f && code <= 0x9f);
    return isControl ? "" : character;
  }).join("");
}
