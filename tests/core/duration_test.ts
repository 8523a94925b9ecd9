import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../core/duration.ts";

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
