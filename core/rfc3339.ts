/**
 * Times as the JSON contract writes them.
 *
 * @module
 */

/** Formats a date as RFC 3339 in UTC without fractional seconds, as the published schema. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
