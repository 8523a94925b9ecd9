/**
 * Usage errors of every command exit 3 with commander's one-line message, never 1, which means
 * "warnings" to scripts and CI gates. `--help` and `--version` exit 0.
 */
import assert from "node:assert/strict";
import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../cli/main.ts";
import { type CliRun, runTrustwatch } from "../support/cli.ts";

/** Returns the path of every command below `command`, e.g. ["now"], ["serve"]. */
function commandPaths(command: Command, parent: string[] = []): string[][] {
  return command.commands.flatMap((subcommand) => {
    const path = [...parent, subcommand.name()];
    return [path, ...commandPaths(subcommand as unknown as Command, path)];
  });
}

function assertUsageError(run: CliRun, args: string[], message: RegExp): void {
  const label = `trustwatch ${args.join(" ")}`;
  assert.equal(run.code, 3, `${label}: exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, "", `${label}: stdout`);
  assert.match(run.stderr, message, label);
  assert.equal(run.stderr.trimEnd().split("\n").length, 1, `${label}: one line: ${run.stderr}`);
}

Deno.test("now usage errors exit 3", async () => {
  const cases: [string[], RegExp][] = [
    [["now", "-o", "bogus"], /^error: option '-o, --output <format>' argument 'bogus' is invalid/],
    [["now", "-o"], /^error: option '-o, --output <format>' argument missing/],
    [["now", "--bogus-flag"], /^error: unknown option '--bogus-flag'/],
    [["now", "extra-arg"], /^error: too many arguments for 'now'/],
  ];
  for (const [args, message] of cases) {
    assertUsageError(await runTrustwatch(args), args, message);
  }
});

Deno.test("missing required argument exits 3", async () => {
  const validate = await runTrustwatch(["validate"]);
  assertUsageError(validate, ["validate"], /^error: missing required argument 'files'/);

  const completion = await runTrustwatch(["completion"]);
  assertUsageError(completion, ["completion"], /^error: missing required argument 'shell'/);
});

Deno.test("unknown option of every command exits 3", async () => {
  const paths = commandPaths(buildProgram());
  assert.ok(paths.length >= 7, `commands found: ${JSON.stringify(paths)}`);
  for (const path of paths) {
    const args = [...path, "--no-such-flag"];
    assertUsageError(await runTrustwatch(args), args, /^error: unknown option '--no-such-flag'/);
  }
});

Deno.test("root usage errors exit 3", async () => {
  const bare = await runTrustwatch([]);
  assert.equal(bare.code, 3, bare.stderr);
  assert.match(bare.stderr, /^Usage: trustwatch /);

  const unknown = await runTrustwatch(["bogus"]);
  assert.equal(unknown.code, 3, unknown.stderr);
  assert.match(unknown.stderr, /^error: unknown command 'bogus'/);

  const rootFlag = await runTrustwatch(["--no-such-flag"]);
  assert.equal(rootFlag.code, 3, rootFlag.stderr);
  assert.match(rootFlag.stderr, /^error: unknown option '--no-such-flag'/);
});

Deno.test("help and version exit 0", async () => {
  for (const args of [["--help"], ["now", "--help"], ["validate", "--help"], ["help", "now"]]) {
    const run = await runTrustwatch(args);
    assert.equal(run.code, 0, `trustwatch ${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stdout, /^Usage: trustwatch /, args.join(" "));
    assert.equal(run.stderr, "", args.join(" "));
  }

  const version = await runTrustwatch(["--version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\S+\n$/);
});
