/**
 * Runs the browser tests of the web UI (_web_ui_browser.ts) in a subprocess with --allow-all.
 * playwright-core checks for /proc/sys/fs/binfmt_misc/WSLInterop when it loads, and Deno 2.9
 * permits that read only with --allow-all, which the suite's permission flags do not grant.
 */
import assert from "node:assert/strict";

const BROWSER_TESTS = new URL("./_web_ui_browser.ts", import.meta.url).pathname;

Deno.test("web UI browser tests pass", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--no-check", BROWSER_TESTS],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const output = decoder.decode(stdout) + decoder.decode(stderr);
  console.log(output.trim());
  assert.equal(code, 0, output);
  assert.match(output, /ok \| \d+ passed/, output);
});
