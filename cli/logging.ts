/**
 * Logging set-up for every command: structured records through LogTape, written to stderr as
 * text or JSON lines, so stdout stays clean for tables and JSON.
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

/** Levels `--log-level` accepts. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** Formats `--log-format` accepts. */
export const LOG_FORMATS = ["text", "json"] as const;

/** Options of {@linkcode setUpLogging}. */
export interface LoggingOptions {
  level: typeof LOG_LEVELS[number];
  format: typeof LOG_FORMATS[number];
}

/** Routes trustwatch's loggers to stderr at the given level; call once per process. */
export async function setUpLogging(options: LoggingOptions): Promise<void> {
  const formatter = options.format === "json" ? jsonLinesFormatter : getTextFormatter();
  const encoder = new TextEncoder();
  const stderrSink = (record: LogRecord) => {
    Deno.stderr.writeSync(encoder.encode(formatter(record)));
  };
  await configure({
    reset: true,
    sinks: { stderr: stderrSink },
    loggers: [
      { category: ["trustwatch"], lowestLevel: options.level as LogLevel, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["stderr"] },
    ],
  });
}
