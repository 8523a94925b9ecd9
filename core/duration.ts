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

/**
 * Maximum duration accepted for a setting that arms a timer: `--scan-timeout`, `--probe-timeout`,
 * `refreshEvery` and socks5's `--connect-timeout`. Node.js and Deno (checked on 2.9.6) set a
 * delay above 2^31 - 1 ms (about 596h) to 1 ms, because timers hold it as a signed 32-bit
 * integer. One day stays far below that and is longer than any scan or interval needs.
 */
export const MAX_TIMER_DURATION_MS = 24 * UNIT_MS.h;

/**
 * Checks a duration that arms a timer. Returns `undefined` when it is more than 0 and at most
 * {@linkcode MAX_TIMER_DURATION_MS}, and otherwise the expected range for an error message.
 *
 * @example
 * ```ts
 * timerDurationProblem(parseDuration("1000h")); // "expected more than 0 and at most 24h"
 * ```
 */
export function timerDurationProblem(ms: number): string | undefined {
  if (ms > 0 && ms <= MAX_TIMER_DURATION_MS) return undefined;
  return `expected more than 0 and at most ${formatDuration(MAX_TIMER_DURATION_MS)}`;
}
