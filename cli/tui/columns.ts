/**
 * Column layout of the TUI's findings list for a given terminal width. Narrow terminals drop the
 * ERROR column first, and WHERE takes what the fixed columns leave.
 *
 * @module
 */

/** A list column with its width in terminal columns. */
export interface ListColumn {
  key: "marker" | "severity" | "source" | "where" | "expires" | "error";
  title: string;
  width: number;
}

/** Columns between two cells. */
export const COLUMN_GAP = 1;

/** Narrowest WHERE column worth sharing space with ERROR; below it ERROR is left out. */
export const MIN_SHARED_WHERE_COLUMNS = 24;

const FIXED_COLUMNS: ListColumn[] = [
  { key: "marker", title: "", width: 1 },
  { key: "severity", title: "SEV", width: 4 },
  { key: "source", title: "SOURCE", width: 14 },
];
const EXPIRES_COLUMN: ListColumn = { key: "expires", title: "EXPIRES", width: 16 };

/** Returns the list columns for a terminal `width` columns wide; their cells and gaps fit it. */
export function listColumns(width: number): ListColumn[] {
  const fixed = [...FIXED_COLUMNS, EXPIRES_COLUMN];
  const fixedWidth = fixed.reduce((sum, column) => sum + column.width + COLUMN_GAP, 0);
  const flexible = Math.max(4, width - fixedWidth - COLUMN_GAP);

  const whereWidth = Math.ceil(flexible * 0.55);
  if (whereWidth < MIN_SHARED_WHERE_COLUMNS) {
    return [...FIXED_COLUMNS, { key: "where", title: "WHERE", width: flexible }, EXPIRES_COLUMN];
  }
  return [
    ...FIXED_COLUMNS,
    { key: "where", title: "WHERE", width: whereWidth },
    EXPIRES_COLUMN,
    { key: "error", title: "ERROR", width: flexible - whereWidth - COLUMN_GAP },
  ];
}
