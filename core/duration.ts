/**
 * Go-style durations (`720h`, `90m`, `1h30m`, `2.5s`), the form Kubernetes tools and the original
 * trustwatch use for thresholds and intervals.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Parses a Go-style duration into milliseconds.
 *
 * Units are `h`, `m`, `s` and `ms`, combinable (`1h30m`). Days are not a Go unit: write `720h`.
 * Throws an Error naming the value and the expected form.
 *
 * @example
 * ```ts
 * parseDuration("720h"); // 2_592_000_000
 * ```
 */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (text === "0") return 0;
  if (!DURATION_PATTERN.test(text)) {
    throw new Error(
      `invalid duration "${value}": expected a number with a unit h, m, s or ms, e.g. 720h or 90m`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * UNIT_MS[unit];
  }
  return Math.round(total);
}

/** Formats milliseconds as a Go-style duration (`720h0m0s` is written `720h`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = Math.abs(ms);
  for (const unit of ["h", "m", "s"]) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return (ms < 0 ? "-" : "") + parts.join("");
}
