/**
 * Relative expiry for humans: "expired 3d ago", "in 12d", "in 5h".
 *
 * @module
 */
import { ZERO_TIME } from "../../core/model.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Returns `notAfter` relative to `now`, or "-" when the finding has no certificate. */
export function formatExpiry(notAfter: string, now: Date): string {
  if (notAfter === ZERO_TIME) return "-";
  const remainingMs = Date.parse(notAfter) - now.getTime();
  const span = formatSpan(Math.abs(remainingMs));
  return remainingMs <= 0 ? `expired ${span} ago` : `in ${span}`;
}

function formatSpan(ms: number): string {
  if (ms >= 2 * DAY_MS) return `${Math.floor(ms / DAY_MS)}d`;
  if (ms >= HOUR_MS) return `${Math.floor(ms / HOUR_MS)}h`;
  return `${Math.max(1, Math.floor(ms / 60_000))}m`;
}
