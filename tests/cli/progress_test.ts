import assert from "node:assert/strict";
import { ScanProgressLine } from "../../cli/progress.ts";
import { demoFixtures } from "../sandbox/fixtures.ts";
import { startSandbox } from "../sandbox/server.ts";
import { resolveFlags } from "../support/cli.ts";
import { shellQuote, startTmux, tmuxAvailable } from "./_tmux.ts";

/** Collects what the progress line writes, as a terminal would receive it. */
class RecordingSink {
  text = "";
  writeSync(bytes: Uint8Array): number {
    this.text += new TextDecoder().decode(bytes);
    return bytes.length;
  }
}

Deno.test("progress line counts checked targets per discoverer", () => {
  const sink = new RecordingSink();
  const progress = new ScanProgressLine({ sink, columns: () => 200, redrawIntervalMs: 60_000 });
  progress.update({ source: "k8s.webhook", phase: "start" });
  progress.update({ source: "k8s.webhook", phase: "target" });
  progress.update({ source: "k8s.webhook", phase: "target" });
  progress.update({ source: "k8s.webhook", phase: "checked" });
  progress.update({ source: "k8s.tlsSecret", phase: "start" });
  progress.update({ source: "k8s.tlsSecret", phase: "error" });
  assert.match(progress.text(), /^. scanning · k8s\.webhook 1\/2 · k8s\.tlsSecret 0\/0 ✗$/);

  progress.update({ source: "k8s.webhook", phase: "checked" });
  progress.update({ source: "k8s.webhook", phase: "done" });
  assert.match(progress.text(), /k8s\.webhook 2\/2 ✓/);
});

Deno.test("progress line fits the width and is erased on stop", () => {
  const sink = new RecordingSink();
  const progress = new ScanProgressLine({ sink, columns: () => 30, redrawIntervalMs: 60_000 });
  for (const source of ["k8s.webhook", "k8s.tlsSecret", "k8s.ingressTLS"] as const) {
    progress.update({ source, phase: "start" });
  }
  progress.start();
  progress.stop();
  const drawn = sink.text.split("\r\x1b[K");
  assert.equal(drawn[0], "");
  assert.equal([...drawn[1]].length, 29, `one column is left free: ${drawn[1]}`);
  assert.ok(drawn[1].endsWith("…"));
  assert.equal(drawn[2], "", "stop erases the line");
  assert.equal(drawn.length, 3);
});

/**
 * Runs `now -o json` in tmux with stdout to a file and stderr on the terminal, recording every
 * byte the terminal receives, and returns that record and the final screen.
 */
async function runOnTerminal(extraArgs: string[]): Promise<{ record: string; screen: string }> {
  const { objects } = await demoFixtures();
  const sandbox = await startSandbox({ objects, latencyMs: 150 });
  const tmux = await startTmux();
  try {
    const record = `${tmux.directory}/terminal.log`;
    const done = `${tmux.directory}/done`;
    await tmux.tmux("pipe-pane", "-t", "test", "-o", `cat >> ${shellQuote(record)}`);
    const args = [
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      ...resolveFlags(sandbox.resolveEntries),
      "-o",
      "json",
      ...extraArgs,
    ];
    await tmux.run(
      `deno task --quiet trustwatch ${args.map(shellQuote).join(" ")} > ${
        shellQuote(`${tmux.directory}/out.json`)
      }; echo $? > ${shellQuote(done)}`,
    );
    assert.equal((await tmux.waitForFile(done, "the scan")).trim(), "2");
    return { record: await Deno.readTextFile(record), screen: await tmux.screen() };
  } finally {
    await tmux.close();
    await sandbox.close();
  }
}

Deno.test({
  name: "progress shows on a terminal stderr",
  ignore: !tmuxAvailable(),
  async fn() {
    const { record, screen } = await runOnTerminal([]);
    assert.match(record, /scanning · /);
    assert.match(record, /k8s\.webhook \d+\/\d+/);
    assert.match(record, /k8s\.tlsSecret \d+\/\d+/);
    assert.doesNotMatch(screen, /scanning/, "the line is erased when the scan ends");
  },
});

Deno.test({
  name: "progress stays off with --quiet",
  ignore: !tmuxAvailable(),
  async fn() {
    const { record } = await runOnTerminal(["--quiet"]);
    assert.doesNotMatch(record, /scanning/);
  },
});
