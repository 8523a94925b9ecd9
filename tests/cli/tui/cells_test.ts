import assert from "node:assert/strict";
import { displayWidth, fit, sanitize, truncate, wrap } from "../../../cli/tui/cells.ts";
import { listColumns } from "../../../cli/tui/columns.ts";

Deno.test("cells strip control and escape characters", () => {
  assert.equal(sanitize("evil\x1b[31mred\x1b[0m\nnext\u009bline"), "evil [31mred [0m next line");
  assert.equal(sanitize("  spaced\t\tout  "), "spaced out");
});

Deno.test("cells cut with an ellipsis to exact width", () => {
  assert.equal(truncate("payments/ledger-tls", 10), "payments/…");
  assert.equal(truncate("short", 10), "short");
  assert.equal(fit("short", 8), "short   ");
  assert.equal(fit("a\nb", 5), "a b  ");
  assert.equal(displayWidth(fit("漢字の名前です", 9)), 9, "wide characters count two columns");
  assert.equal(truncate("漢字の名前です", 6), "漢字…");
});

Deno.test("cells wrap long values at spaces", () => {
  assert.deepEqual(wrap("one two three four", 9), ["one two", "three", "four"]);
  assert.deepEqual(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
  assert.deepEqual(wrap("", 5), [""]);
});

Deno.test("columns fill the width and drop ERROR when narrow", () => {
  for (const width of [60, 80, 120, 200]) {
    const columns = listColumns(width);
    const used = columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;
    assert.ok(used <= width, `${width}: ${used}`);
  }
  assert.deepEqual(listColumns(60).map((column) => column.key), [
    "marker",
    "severity",
    "source",
    "where",
    "expires",
  ]);
  assert.ok(listColumns(120).some((column) => column.key === "error"));
});
