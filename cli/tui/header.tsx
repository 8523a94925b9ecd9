/** @jsxImportSource npm:react@19.3.1 */
/** @jsxImportSourceTypes npm:@types/react@19.3.3 */
/**
 * The TUI header: context, cluster, scan time, counts per severity and errors, how many findings
 * are shown, and the active filter and search.
 *
 * @module
 */
import { Text } from "ink";
import type { Snapshot } from "../../core/model.ts";
import { sanitize, truncate } from "./cells.ts";
import type { Palette } from "./palette.ts";
import type { ViewState } from "./view_state.ts";

/** Maximum number of scan errors listed under the header; the count above shows them all. */
export const MAX_HEADER_ERRORS = 2;

/** Progress of a rescan in flight, or its failure. */
export interface RescanStatus {
  running: boolean;
  found: number;
  checked: number;
  error?: string;
}

/** Props of {@linkcode Header}. */
export interface HeaderProps {
  snapshot: Snapshot;
  contextName: string;
  cluster: string;
  view: ViewState;
  shown: number;
  width: number;
  now: Date;
  rescan: RescanStatus;
  palette: Palette;
}

/** Renders the header lines; their number is {@linkcode headerHeight}. */
export function Header(props: HeaderProps) {
  const { snapshot, view, width, palette } = props;
  const count = (severity: string) =>
    snapshot.findings.filter((finding) => finding.severity === severity).length;
  const scanned = new Date(snapshot.at);
  const scanText = props.rescan.running
    ? `rescanning ${props.rescan.checked}/${props.rescan.found}`
    : `scanned ${scanned.toISOString().slice(11, 19)}Z (${formatAge(scanned, props.now)})`;
  const title = line(
    `context ${props.contextName} · cluster ${props.cluster} · ${scanText}`,
    width - "trustwatch ".length,
  );
  const filters = [
    `Showing ${props.shown}/${snapshot.findings.length}`,
    `filter ${view.filter}`,
    `inventory ${view.showInventory ? "on" : "off"}`,
    ...(view.query ? [`search "${view.query}"`] : []),
  ].join(" · ");
  const counts =
    `${count("critical")} critical · ${count("warn")} warn · ${count("info")} info · ` +
    `${snapshot.errors.length} errors · `;
  const errorLines = snapshot.errors.slice(0, MAX_HEADER_ERRORS).map((error) =>
    line(`error ${error.source}: ${error.message}`, width)
  );
  return (
    <>
      <Text wrap="truncate-end">
        <Text {...palette.heading}>trustwatch</Text>
        {" " + title}
      </Text>
      <Text wrap="truncate-end">
        {line(counts + filters, width)}
      </Text>
      {props.rescan.error && (
        <Text wrap="truncate-end" {...palette.error}>
          {line(`rescan failed: ${props.rescan.error}`, width)}
        </Text>
      )}
      {errorLines.map((text, index) => (
        <Text key={index} wrap="truncate-end" {...palette.error}>{text}</Text>
      ))}
    </>
  );
}

/** Returns the number of lines {@linkcode Header} draws. */
export function headerHeight(snapshot: Snapshot, rescan: RescanStatus): number {
  return 2 + (rescan.error ? 1 : 0) + Math.min(snapshot.errors.length, MAX_HEADER_ERRORS);
}

function line(text: string, width: number): string {
  return truncate(sanitize(text), width);
}

function formatAge(at: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  return `${Math.floor(seconds / 3600)}h ago`;
}
