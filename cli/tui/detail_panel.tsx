/** @jsxImportSource npm:react@19.3.1 */
/** @jsxImportSourceTypes npm:@types/react@19.3.3 */
/**
 * The detail panel of the selected finding: every set field, labelled, with long values wrapped
 * inside the panel. Lines beyond its height are counted, and `enter` shows them all.
 *
 * @module
 */
import { Text } from "ink";
import type { Finding } from "../../core/model.ts";
import { displayWidth, fit, truncate, wrap } from "./cells.ts";
import { detailFields } from "./detail_fields.ts";
import type { Palette } from "./palette.ts";

/** Width of the label column of the detail panel. */
export const DETAIL_LABEL_COLUMNS = 13;

/** Props of {@linkcode DetailPanel}. */
export interface DetailPanelProps {
  finding?: Finding;
  /** Lines available, including the title line. */
  height: number;
  width: number;
  /** First content line shown. */
  scroll: number;
  expanded: boolean;
  now: Date;
  palette: Palette;
}

/** Renders the title rule and as many field lines as fit in `height`. */
export function DetailPanel(props: DetailPanelProps) {
  const { finding, width, palette } = props;
  const lines = finding ? detailLines(finding, width, props.now) : [];
  const room = Math.max(0, props.height - 1);
  const scroll = Math.min(props.scroll, Math.max(0, lines.length - room));
  let shown = lines.slice(scroll, scroll + room);
  const hidden = lines.length - scroll - shown.length;
  if (hidden > 0 && room > 0) {
    const hint = props.expanded ? "j/k scroll" : "enter shows all";
    shown = [...shown.slice(0, room - 1), {
      label: "",
      value: `… ${hidden + 1} more lines (${hint})`,
    }];
  }
  const title = finding ? ` detail ${finding.name ?? finding.target ?? ""} ` : " detail ";
  return (
    <>
      <Text wrap="truncate-end" {...palette.dim}>
        {rule(title, width)}
      </Text>
      {shown.map((line, index) => (
        <Text key={index} wrap="truncate-end">
          <Text {...palette.heading}>{fit(line.label, DETAIL_LABEL_COLUMNS)}</Text>
          {fit(line.value, width - DETAIL_LABEL_COLUMNS)}
        </Text>
      ))}
    </>
  );
}

/** Returns the panel's lines: a label on the first line of each field, values wrapped. */
export function detailLines(
  finding: Finding,
  width: number,
  now: Date,
): { label: string; value: string }[] {
  const valueWidth = Math.max(8, width - DETAIL_LABEL_COLUMNS);
  return detailFields(finding, now).flatMap((field) =>
    wrap(field.value, valueWidth).map((value, index) => ({
      label: index === 0 ? field.label : "",
      value,
    }))
  );
}

/** Returns a horizontal rule of `width` columns with the title near its start. */
function rule(title: string, width: number): string {
  const head = "─" + truncate(title, Math.max(0, width - 2));
  return head + "─".repeat(Math.max(0, width - displayWidth(head)));
}
