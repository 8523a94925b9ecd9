/**
 * Text cells of the TUI: control characters removed, measured in terminal columns, cut with an
 * ellipsis and padded to an exact width, so one value never spills into the next cell or row.
 *
 * @module
 */

/** The character that marks text cut to fit its cell. */
export const ELLIPSIS = "…";

/**
 * Replaces C0 and C1 control characters (line breaks, ESC, CSI) with spaces and collapses runs of
 * spaces, so text from certificates or errors cannot move the cursor or restyle the screen.
 */
export function sanitize(text: string): string {
  return Array.from(text, (character) => isControl(character.codePointAt(0)!) ? " " : character)
    .join("")
    .replace(/ {2,}/g, " ")
    .trim();
}

/** Returns the number of terminal columns a string occupies. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += characterWidth(character.codePointAt(0)!);
  return width;
}

/** Cuts text to at most `width` columns, ending in an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  let result = "";
  let used = 0;
  for (const character of text) {
    const characterColumns = characterWidth(character.codePointAt(0)!);
    if (used + characterColumns > width - 1) break;
    result += character;
    used += characterColumns;
  }
  return result + ELLIPSIS;
}

/** Returns text cut or padded with spaces to exactly `width` columns. */
export function fit(text: string, width: number): string {
  const cut = truncate(sanitize(text), width);
  return cut + " ".repeat(Math.max(0, width - displayWidth(cut)));
}

/** Splits text into lines of at most `width` columns, breaking at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const room = Math.max(1, width);
  const lines: string[] = [];
  let line = "";
  for (const word of sanitize(text).split(" ")) {
    const candidate = line ? `${line} ${word}` : word;
    if (displayWidth(candidate) <= room) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    while (displayWidth(line) > room) {
      const head = sliceColumns(line, room);
      lines.push(head);
      line = line.slice(head.length);
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

function sliceColumns(text: string, width: number): string {
  let result = "";
  let used = 0;
  for (const character of text) {
    const characterColumns = characterWidth(character.codePointAt(0)!);
    if (used + characterColumns > width && result) break;
    result += character;
    used += characterColumns;
  }
  return result;
}

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * Columns of one code point: 0 for combining marks and zero-width characters, 2 for East Asian
 * wide and fullwidth characters and emoji, 1 otherwise.
 */
// NOTE: the wide ranges are the main blocks of Unicode's East Asian Width property, not the full
// table. Rare wide characters outside them are counted as one column.
function characterWidth(code: number): number {
  if (
    (code >= 0x0300 && code <= 0x036f) || (code >= 0x200b && code <= 0x200f) ||
    (code >= 0xfe00 && code <= 0xfe0f)
  ) {
    return 0;
  }
  if (
    (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) || (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}
