/**
 * Log records held back while the TUI owns the terminal, then written to stderr once it closes,
 * so warnings from a rescan neither corrupt the screen nor get lost.
 *
 * @module
 */
import {
  configure,
  getTextFormatter,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
} from "@logtape/logtape";
import { type LoggingOptions, setUpLogging } from "../logging.ts";

/** Most records held; later ones are counted and reported as dropped. */
export const MAX_HELD_LOG_RECORDS = 1000;

/** Routes trustwatch's log records into memory until {@linkcode releaseLogs} is called. */
export async function holdLogs(
  options: LoggingOptions,
): Promise<LogRecord[] & { dropped: number }> {
  const held = Object.assign([] as LogRecord[], { dropped: 0 });
  const memorySink = (record: LogRecord) => {
    if (held.length < MAX_HELD_LOG_RECORDS) held.push(record);
    else held.dropped++;
  };
  await configure({
    reset: true,
    sinks: { memory: memorySink },
    loggers: [
      { category: ["trustwatch"], lowestLevel: options.level as LogLevel, sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["memory"] },
    ],
  });
  return held;
}

/** Restores logging to stderr and writes the held records there, in order. */
export async function releaseLogs(
  held: LogRecord[] & { dropped: number },
  options: LoggingOptions,
): Promise<void> {
  await setUpLogging(options);
  const formatter = options.format === "json" ? jsonLinesFormatter : getTextFormatter();
  const encoder = new TextEncoder();
  for (const record of held) Deno.stderr.writeSync(encoder.encode(formatter(record)));
  if (held.dropped > 0) {
    Deno.stderr.writeSync(
      encoder.encode(
        `trustwatch: ${held.dropped} more log records were dropped while the TUI ran\n`,
      ),
    );
  }
}
