import assert from "node:assert/strict";
import {
  formatDuration,
  MAX_TIMER_DURATION_MS,
  parseDuration,
  timerDurationProblem,
} from "../../core/duration.ts";

Deno.test("parseDuration reads Go-style units and combinations", () => {
  const cases: [string, number][] = [
    ["720h", 720 * 3_600_000],
    ["336h", 336 * 3_600_000],
    ["90m", 90 * 60_000],
    ["1h30m", 90 * 60_000],
    ["2.5s", 2_500],
    ["250ms", 250],
    ["0", 0],
  ];
  for (const [text, expected] of cases) assert.equal(parseDuration(text), expected, text);
});

Deno.test("parseDuration rejects days, bare numbers and junk with the value in the message", () => {
  for (const text of ["30d", "720", "h", "-5m", "1h 30m", ""]) {
    assert.throws(
      () => parseDuration(text),
      (error: Error) => error.message.includes(`"${text}"`),
      text,
    );
  }
});

Deno.test("formatDuration writes the shortest Go form", () => {
  assert.equal(formatDuration(720 * 3_600_000), "720h");
  assert.equal(formatDuration(90 * 60_000), "1h30m");
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(1_500), "1s500ms");
});

Deno.test("timerDurationProblem accepts up to one day", () => {
  for (const text of ["1ms", "10s", "2m", "24h"]) {
    assert.equal(timerDurationProblem(parseDuration(text)), undefined, text);
  }
  assert.equal(MAX_TIMER_DURATION_MS, parseDuration("24h"));
});

Deno.test("timerDurationProblem rejects zero and overflowing delays", () => {
  // 597h is past 2^31 - 1 ms, where Node and Deno timers fire after 1 ms instead.
  for (const text of ["0s", "0", "24h1ms", "597h", "1000h"]) {
    assert.equal(
      timerDurationProblem(parseDuration(text)),
      "expected more than 0 and at most 24h",
      text,
    );
  }
  assert.equal(timerDurationProblem(-1), "expected more than 0 and at most 24h");
});
