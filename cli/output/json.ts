/**
 * The JSON output of `trustwatch now -o json`: `{"snapshot": {...}, "exitCode": N}`.
 *
 * @module
 */
import type { Snapshot } from "../../core/model.ts";

/** Renders the snapshot and exit code as indented JSON with a trailing newline. */
export function renderJson(snapshot: Snapshot, exitCode: number): string {
  return JSON.stringify({ snapshot, exitCode }, null, 2) + "\n";
}
