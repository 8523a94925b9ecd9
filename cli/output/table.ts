/**
 * The plain table of `trustwatch now`: only problems (critical, warn) and errors, most severe
 * first, then soonest expiry.
 *
 * @module
 */
import type { Finding, Snapshot } from "../../core/model.ts";
import { formatExpiry } from "./relative_time.ts";

/** Maximum length of the detail text in a cell; longer text is cut with an ellipsis. */
export const MAX_DETAIL_CHARS = 100;

/** Maximum length of the ISSUER column of `-o wide`; longer issuers are cut with an ellipsis. */
export const MAX_WIDE_ISSUER_CHARS = 60;

const HEADERS = ["SEVERITY", "SOURCE", "WHERE", "EXPIRES", "FINDING", "DETAIL"];
const WIDE_HEADERS = [
  "SEVERITY",
  "SOURCE",
  "WHERE",
  "EXPIRES",
  "FINDING",
  "TARGET",
  "SNI",
  "ISSUER",
  "DETAIL",
];

/** Options of {@linkcode renderTable}. */
export interface TableOptions {
  /** Leave out the summary line. */
  quiet?: boolean;
  /** Add the TARGET, SNI and ISSUER columns (`-o wide`). */
  wide?: boolean;
}

/** Renders the problems of a snapshot as an aligned text table with a summary line. */
export function renderTable(snapshot: Snapshot, now: Date, options: TableOptions = {}): string {
  const problems = snapshot.findings.filter((finding) => finding.severity !== "info");
  const lines: string[] = [];
  if (problems.length > 0) {
    const rows = problems.map((finding) => {
      const leading = [
        finding.severity.toUpperCase(),
        oneLine(finding.source),
        oneLine(whereOf(finding)),
        formatExpiry(finding.notAfter, now),
        finding.findingType ?? "",
      ];
      const wide = options.wide
        ? [
          oneLine(finding.target ?? "-"),
          oneLine(finding.sni ?? "-"),
          truncate(oneLine(finding.issuer ?? "-"), MAX_WIDE_ISSUER_CHARS),
        ]
        : [];
      return [...leading, ...wide, truncate(detailOf(finding), MAX_DETAIL_CHARS)];
    });
    lines.push(...alignColumns([options.wide ? WIDE_HEADERS : HEADERS, ...rows]));
  }
  if (snapshot.errors.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push("ERRORS");
    for (const error of snapshot.errors) lines.push(`${error.source}: ${oneLine(error.message)}`);
  }
  if (!options.quiet) {
    if (lines.length > 0) lines.push("");
    lines.push(summaryOf(snapshot));
  }
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}

/** Returns "namespace/name", or the name alone for cluster-scoped objects. */
export function whereOf(finding: Finding): string {
  const name = finding.name ?? finding.target ?? "";
  const where = finding.namespace ? `${finding.namespace}/${name}` : name;
  const isBundleEntry = finding.target && /\[\d+\]$/.test(finding.target);
  return isBundleEntry ? `${where} ${finding.target}` : where;
}

function detailOf(finding: Finding): string {
  return oneLine(
    finding.probeError ?? finding.chainErrors?.[0] ?? finding.postureIssues?.[0] ??
      lastNote(finding) ?? "",
  );
}

function lastNote(finding: Finding): string | undefined {
  const notes = finding.notes?.split("; ");
  return notes?.[notes.length - 1];
}

function summaryOf(snapshot: Snapshot): string {
  const count = (severity: string) =>
    snapshot.findings.filter((finding) => finding.severity === severity).length;
  const critical = count("critical");
  const warn = count("warn");
  const healthy = count("info");
  const parts = [`${critical} critical`, `${warn} warn`, `${healthy} healthy`];
  if (snapshot.errors.length > 0) {
    parts.push(countOf(snapshot.errors.length, "error", "errors"));
  }
  const verdict = critical + warn + snapshot.errors.length === 0
    ? "No certificate problems found: "
    : "";
  const checked = countOf(
    snapshot.findings.length,
    "certificate or object",
    "certificates and objects",
  );
  return `${verdict}${parts.join(", ")} (${checked} checked)`;
}

/** Formats a count with the singular or plural noun: `1 error`, `0 errors`, `2 errors`. */
function countOf(count: number, singular: string, plural: string): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** Replaces control characters (line breaks, escape sequences) so one value stays one cell. */
export function oneLine(text: string): string {
  return Array.from(text, (character) => {
    const code = character.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? " " : character;
  }).join("").replace(/ {2,}/g, " ").trim();
}

function truncate(text: string, maxChars: number): string {
  return text.length > maxChars ? text.slice(0, maxChars - 1) + "…" : text;
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column])).join(
      "  ",
    )
      .trimEnd()
  );
}
