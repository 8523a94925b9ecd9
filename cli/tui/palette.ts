/**
 * Colours of the TUI. With `NO_COLOR` set (https://no-color.org) every style is left out, and
 * the selected row is shown by its marker alone.
 *
 * @module
 */
import type { Severity } from "../../core/model.ts";

/** Text styles, as ink's `<Text>` props; empty objects when colours are off. */
export interface Palette {
  enabled: boolean;
  severity(severity: Severity): { color?: string; bold?: boolean };
  selected: { inverse?: boolean };
  heading: { bold?: boolean };
  dim: { dimColor?: boolean };
  error: { color?: string };
}

const SEVERITY_COLORS: Record<Severity, string> = {
  critical: "red",
  warn: "yellow",
  info: "green",
};

/** Returns whether colours are on: `NO_COLOR` set to any non-empty value turns them off. */
export function colorsEnabled(): boolean {
  return (Deno.env.get("NO_COLOR") ?? "") === "";
}

/** Returns the palette for colours on or off. */
export function paletteFor(enabled: boolean): Palette {
  if (!enabled) {
    return {
      enabled,
      severity: () => ({}),
      selected: {},
      heading: {},
      dim: {},
      error: {},
    };
  }
  return {
    enabled,
    severity: (severity) => ({ color: SEVERITY_COLORS[severity], bold: severity === "critical" }),
    selected: { inverse: true },
    heading: { bold: true },
    dim: { dimColor: true },
    error: { color: "red" },
  };
}
