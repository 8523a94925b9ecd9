/** @jsxImportSource npm:react@19.3.1 */
/** @jsxImportSourceTypes npm:@types/react@19.3.3 */
/**
 * The findings list: one row per finding with SEV, SOURCE, WHERE, EXPIRES and a short ERROR,
 * each cell cut with an ellipsis to its column, so a row never wraps.
 *
 * @module
 */
import { Text } from "ink";
import type { Finding, Severity } from "../../core/model.ts";
import { formatExpiry } from "../output/relative_time.ts";
import { whereOf } from "../output/table.ts";
import { fit } from "./cells.ts";
import { COLUMN_GAP, type ListColumn, listColumns } from "./columns.ts";
import type { Palette } from "./palette.ts";

/** SEV column text per severity. */
const SEVERITY_LABELS: Record<Severity, string> = {
  critical: "CRIT",
  warn: "WARN",
  info: "INFO",
};

/** Marker of the selected row, visible with colours off. */
export const SELECTED_MARKER = "›";

/** Props of {@linkcode FindingList}. */
export interface FindingListProps {
  findings: Finding[];
  selected: number;
  scrollTop: number;
  /** Rows available for findings, below the column titles. */
  rows: number;
  width: number;
  now: Date;
  palette: Palette;
  /** Line shown when no finding matches. */
  emptyText: string;
}

/** Renders the column titles and the rows on screen. */
export function FindingList(props: FindingListProps) {
  const columns = listColumns(props.width);
  const page = props.findings.slice(props.scrollTop, props.scrollTop + props.rows);
  const gap = " ".repeat(COLUMN_GAP);
  return (
    <>
      <Text wrap="truncate-end" {...props.palette.heading}>
        {columns.map((column) => fit(column.title, column.width)).join(gap)}
      </Text>
      {page.length === 0 && <Text wrap="truncate-end">{fit(props.emptyText, props.width)}</Text>}
      {page.map((finding, index) => {
        const isSelected = props.scrollTop + index === props.selected;
        return (
          <Text
            key={props.scrollTop + index}
            wrap="truncate-end"
            {...(isSelected ? props.palette.selected : {})}
          >
            {columns.map((column, columnIndex) => (
              <Text key={column.key} {...cellStyle(column, finding, props.palette)}>
                {(columnIndex > 0 ? gap : "") +
                  fit(cellText(column, finding, isSelected, props.now), column.width)}
              </Text>
            ))}
          </Text>
        );
      })}
    </>
  );
}

function cellText(column: ListColumn, finding: Finding, isSelected: boolean, now: Date): string {
  switch (column.key) {
    case "marker":
      return isSelected ? SELECTED_MARKER : " ";
    case "severity":
      return SEVERITY_LABELS[finding.severity];
    case "source":
      return finding.source;
    case "where":
      return whereOf(finding);
    case "expires":
      return formatExpiry(finding.notAfter, now);
    case "error":
      return shortError(finding);
  }
}

function cellStyle(column: ListColumn, finding: Finding, palette: Palette) {
  return column.key === "severity" ? palette.severity(finding.severity) : {};
}

/** Returns the finding type and its first message: probe error, chain error or posture issue. */
export function shortError(finding: Finding): string {
  const message = finding.probeError ?? finding.chainErrors?.[0] ?? finding.postureIssues?.[0];
  return [finding.findingType, message].filter(Boolean).join(": ");
}
