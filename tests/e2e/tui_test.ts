// deno-lint-ignore-file no-control-regex -- the tests look for terminal escape codes on screen.
import assert from "node:assert/strict";
import { resolveFlags } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { demoFixtures, tlsSecret } from "../sandbox/fixtures.ts";
import { type Sandbox, startSandbox } from "../sandbox/server.ts";
import { shellQuote, startTmux, tmuxAvailable, type TmuxSession } from "../cli/_tmux.ts";

/** A Secret name longer than any WHERE column, to check truncation. */
const LONG_NAME = "checkout-tls-for-the-payment-gateway-with-a-generated-suffix-that-never-fits-" +
  "in-one-column";

interface TuiRun {
  tmux: TmuxSession;
  sandbox: Sandbox;
  exitCodeFile: string;
}

/**
 * Starts the demo sandbox and `trustwatch now` in a tmux session on a 120x40 terminal, waits
 * for the TUI's header, runs `test`, and stops everything.
 */
async function withTui(
  test: (run: TuiRun) => Promise<void>,
  options: { env?: Record<string, string | undefined> } = {},
): Promise<void> {
  const { objects, external } = await demoFixtures();
  const expiring = await issueCertificate({
    commonName: "checkout.example.com",
    dnsNames: ["checkout.example.com"],
    notBefore: daysFromNow(-80),
    notAfter: daysFromNow(10),
  });
  objects.push(tlsSecret({ namespace: "payments", name: LONG_NAME, certPem: expiring.certPem }));
  const sandbox = await startSandbox({ objects });
  const tmux = await startTmux({ env: options.env });
  const configPath = `${tmux.directory}/trustwatch.yaml`;
  const exitCodeFile = `${tmux.directory}/exit-code`;
  await Deno.writeTextFile(configPath, `external:\n  - url: ${external.url}\n`);
  try {
    const args = [
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      ...resolveFlags(sandbox.resolveEntries),
    ];
    await tmux.run(
      `clear; echo BEFORE-TUI; deno task --quiet trustwatch ${
        args.map(shellQuote).join(" ")
      }; echo $? > ${shellQuote(exitCodeFile)}`,
    );
    await tmux.waitFor((screen) => /Showing \d+\/\d+/.test(screen), "the TUI header");
    await test({ tmux, sandbox, exitCodeFile });
  } finally {
    await tmux.close();
    await sandbox.close();
  }
}

function lines(screen: string): string[] {
  return screen.split("\n");
}

/** Returns the list row that carries the selection marker. */
function selectedRow(screen: string): string {
  const row = lines(screen).find((line) => line.startsWith("›"));
  assert.ok(row, `no selected row on screen:\n${screen}`);
  return row;
}

/** Returns the list rows (lines starting with the marker column and a severity). */
function listRows(screen: string): string[] {
  return lines(screen).filter((line) => /^[› ] (CRIT|WARN|INFO) /.test(line));
}

function detailTitle(screen: string): string {
  const title = lines(screen).find((line) => line.startsWith("─ detail "));
  assert.ok(title, `no detail panel on screen:\n${screen}`);
  return title;
}

Deno.test({
  name: "tui shows header, problems and detail",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      const screen = await tmux.screen();
      assert.match(
        lines(screen)[0],
        /^trustwatch context sandbox · cluster https:\/\/127\.0\.0\.1:\d+ · scanned/,
      );
      assert.match(
        screen,
        /4 critical · 5 warn · \d+ info · 0 errors · Showing 9\/\d+ · filter all/,
      );
      assert.match(screen, /SEV\s+SOURCE\s+WHERE\s+EXPIRES\s+ERROR/);

      const rows = listRows(screen);
      assert.equal(rows.length, 9, screen);
      assert.deepEqual(
        rows.map((row) => row.slice(2, 6)),
        ["CRIT", "CRIT", "CRIT", "CRIT", "WARN", "WARN", "WARN", "WARN", "WARN"],
      );
      assert.match(rows[0], /monitoring\/grafana-tls\s+expired \d+d ago\s+EXPIRED/);
      assert.doesNotMatch(screen, /api-tls/, "healthy inventory stays hidden");

      assert.match(detailTitle(screen), /grafana-tls/);
      assert.match(screen, /notAfter\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(expired \d+d ago\)/);
      assert.match(screen, /issuer\s+CN=/);
      assert.match(screen, /serial\s+[0-9A-F]+/);
    }),
});

Deno.test({
  name: "tui moves with j, k, arrows, g, G and digits",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      const first = selectedRow(await tmux.screen());
      assert.match(first, /grafana-tls/);

      await tmux.keys("j");
      let screen = await tmux.waitFor((text) => !selectedRow(text).includes("grafana-tls"), "j");
      const second = listRows(screen)[1];
      assert.equal(selectedRow(screen), "›" + second.slice(1));

      await tmux.keys("Down");
      screen = await tmux.waitFor((text) => selectedRow(text).includes("ledger-tls"), "Down");
      assert.match(detailTitle(screen), /ledger-tls/);

      await tmux.keys("k");
      screen = await tmux.waitFor((text) => selectedRow(text) === "›" + second.slice(1), "k");

      await tmux.keys("G");
      screen = await tmux.waitFor(
        (text) => selectedRow(text) === "›" + listRows(text).at(-1)!.slice(1),
        "G selects the last row",
      );
      assert.match(selectedRow(screen), /^› WARN/);

      await tmux.keys("g");
      screen = await tmux.waitFor((text) => selectedRow(text).includes("grafana-tls"), "g");

      await tmux.keys("4");
      screen = await tmux.waitFor(
        (text) => selectedRow(text) === "›" + listRows(text)[3].slice(1),
        "4",
      );
      assert.match(selectedRow(screen), /checkout-tls-for-the-payment/);

      await tmux.keys("Up");
      await tmux.waitFor((text) => selectedRow(text).includes("ledger-tls"), "Up");
    }),
});

Deno.test({
  name: "tui search matches name, namespace, source and target",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      await tmux.type("/ledger");
      let screen = await tmux.waitFor((text) => text.includes("/ledger▏"), "the search prompt");
      assert.match(screen, /Showing 9\//, "the search applies only on enter");

      await tmux.keys("Enter");
      screen = await tmux.waitFor((text) => /Showing 1\//.test(text), "search by name");
      assert.match(screen, /search "ledger"/);
      const found = listRows(screen);
      assert.equal(found.length, 1, screen);
      assert.match(found[0], /payments\/ledger-tls/);

      await tmux.keys("Escape");
      screen = await tmux.waitFor((text) => /Showing 9\//.test(text), "esc clears the search");
      assert.doesNotMatch(screen, /search "/);

      await tmux.type("/monitoring");
      await tmux.keys("Enter");
      screen = await tmux.waitFor(
        (text) => /search "monitoring"/.test(text),
        "search by namespace",
      );
      const byNamespace = listRows(screen);
      assert.ok(byNamespace.length >= 3, screen);
      for (const row of byNamespace) assert.match(row, /monitoring\//);

      await tmux.keys("Escape");
      await tmux.waitFor((text) => /Showing 9\//.test(text), "esc clears the search");
      await tmux.type("/k8s.webhook");
      await tmux.keys("Enter");
      screen = await tmux.waitFor((text) => /search "k8s.webhook"/.test(text), "search by source");
      const bySource = listRows(screen);
      assert.equal(bySource.length, 2, screen);
      for (const row of bySource) assert.match(row, /k8s\.webhook/);

      await tmux.keys("Escape");
      await tmux.waitFor((text) => /Showing 9\//.test(text), "esc clears the search");
      await tmux.type("/svc:");
      await tmux.keys("Enter");
      screen = await tmux.waitFor((text) => /search "svc:"/.test(text), "search by target");
      const byTarget = listRows(screen);
      assert.equal(byTarget.length, 3, "two webhooks and one APIService have a .svc target");
      assert.ok(byTarget.some((row) => /k8s\.apiservice/.test(row)), screen);
    }),
});

Deno.test({
  name: "tui tab filters severity, i toggles inventory",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      await tmux.keys("Tab");
      let screen = await tmux.waitFor((text) => /filter critical/.test(text), "filter critical");
      assert.match(screen, /Showing 4\//);
      assert.ok(listRows(screen).every((row) => row.slice(2, 6) === "CRIT"), screen);

      await tmux.keys("Tab");
      screen = await tmux.waitFor((text) => /filter warn/.test(text), "filter warn");
      assert.match(screen, /Showing 5\//);
      assert.ok(listRows(screen).every((row) => row.slice(2, 6) === "WARN"), screen);

      await tmux.keys("Tab");
      screen = await tmux.waitFor((text) => /filter all/.test(text), "tab skips info");
      assert.match(screen, /Showing 9\//);

      await tmux.keys("i");
      screen = await tmux.waitFor((text) => /inventory on/.test(text), "inventory on");
      const total = Number(/Showing (\d+)\/(\d+)/.exec(screen)![2]);
      assert.match(screen, new RegExp(`Showing ${total}/${total}`));
      await tmux.keys("G");
      screen = await tmux.waitFor((text) => /^› INFO/.test(selectedRow(text)), "healthy rows");

      await tmux.keys("Tab", "Tab", "Tab");
      screen = await tmux.waitFor((text) => /filter info/.test(text), "filter info");
      assert.ok(listRows(screen).every((row) => row.slice(2, 6) === "INFO"), screen);
      assert.match(screen, /api-tls/);

      await tmux.keys("i");
      screen = await tmux.waitFor((text) => /inventory off/.test(text), "inventory off");
      assert.match(screen, /filter all/, "hiding inventory leaves the info filter");
      assert.match(screen, /Showing 9\//);
    }),
});

Deno.test({
  name: "tui detail expands with every field",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      await tmux.type("/kyverno");
      await tmux.keys("Enter");
      await tmux.waitFor((text) => /Showing 1\//.test(text), "the kyverno webhook");
      await tmux.keys("Enter");
      const screen = await tmux.waitFor(
        (text) => text.includes("enter/esc back to the list"),
        "the expanded detail panel",
      );
      assert.doesNotMatch(screen, /SEV\s+SOURCE/, "the list gives way to the detail");
      for (
        const label of [
          "severity",
          "findingType",
          "source",
          "name",
          "target",
          "sni",
          "notAfter",
          "subject",
          "SANs",
          "issuer",
          "serial",
          "chain",
          "tlsVersion",
          "probeOk",
          "remediation",
        ]
      ) {
        assert.match(screen, new RegExp(`^${label}\\s+\\S`, "m"), `${label} in\n${screen}`);
      }
      assert.match(
        screen,
        /remediation\s+Renew the serving certificate of service kyverno\/kyverno-svc/,
      );

      await tmux.keys("Escape");
      await tmux.waitFor((text) => /SEV\s+SOURCE/.test(text), "back to the list");
    }),
});

Deno.test({
  name: "tui follows resize to 60 columns and back",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      await tmux.tmux("resize-window", "-t", "test", "-x", "60", "-y", "40");
      let screen = await tmux.waitFor(
        (text) => /SEV\s+SOURCE\s+WHERE\s+EXPIRES\s*$/m.test(text),
        "the 60-column layout",
      );
      for (const line of lines(screen)) {
        assert.ok([...line].length <= 60, `line wider than 60 columns: ${line}`);
      }
      const rows = listRows(screen);
      assert.equal(rows.length, 9, `every row stays one line:\n${screen}`);
      const long = rows.find((row) =>
        row.startsWith("  CRIT") && row.includes("payments/checkout")
      );
      assert.ok(long, screen);
      assert.match(
        long,
        /payments\/checkout-t…\s+in \d+d/,
        "the long name is cut with an ellipsis",
      );
      assert.doesNotMatch(screen, /in-one-column/, "the rest of the name is not wrapped");

      await tmux.tmux("resize-window", "-t", "test", "-x", "120", "-y", "40");
      screen = await tmux.waitFor(
        (text) => /SEV\s+SOURCE\s+WHERE\s+EXPIRES\s+ERROR/.test(text),
        "the 120-column layout",
      );
      assert.equal(listRows(screen).length, 9);
    }),
});

Deno.test({
  name: "tui q restores the screen and exits 2",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux, exitCodeFile }) => {
      await tmux.keys("j");
      await tmux.keys("q");
      const code = await tmux.waitForFile(exitCodeFile, "the exit code");
      assert.equal(code.trim(), "2");
      const screen = await tmux.screen();
      assert.match(screen, /BEFORE-TUI/, "the shell's screen is back");
      assert.doesNotMatch(screen, /Showing \d+\//, "the TUI is gone");
    }),
});

Deno.test({
  name: "tui ctrl+c quits with the scan's exit code",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux, exitCodeFile }) => {
      await tmux.keys("C-c");
      assert.equal((await tmux.waitForFile(exitCodeFile, "the exit code")).trim(), "2");
      assert.doesNotMatch(await tmux.screen(), /Showing \d+\//);
    }),
});

Deno.test({
  name: "tui r rescans and shows changes",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux, sandbox }) => {
      const expired = await issueCertificate({
        commonName: "late.example.com",
        notBefore: daysFromNow(-60),
        notAfter: daysFromNow(-1),
      });
      sandbox.objects.add(
        tlsSecret({ namespace: "payments", name: "added-after-scan", certPem: expired.certPem }),
      );
      assert.doesNotMatch(await tmux.screen(), /added-after-scan/);
      await tmux.keys("r");
      const screen = await tmux.waitFor(
        (text) => /5 critical/.test(text) && /added-after-scan/.test(text),
        "the rescanned snapshot",
      );
      assert.match(screen, /Showing 10\//);
    }),
});

Deno.test({
  name: "tui colours severities without NO_COLOR",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      const screen = await tmux.screen({ escapes: true });
      assert.match(screen, /\x1b\[[0-9;]*31m CRIT/, "critical is red");
      assert.match(screen, /\x1b\[[0-9;]*33m WARN/, "warn is yellow");
      assert.match(screen, /\x1b\[[0-9;]*7m/, "the selected row is inverse");
      const severityCells = screen.split("\n").filter((line) => /(CRIT|WARN)\x1b/.test(line));
      assert.ok(severityCells.length >= 9, screen);
      for (const line of severityCells) {
        const after = /(?:CRIT|WARN)((?:\x1b\[[0-9;]*m)+)/.exec(line);
        assert.ok(after, JSON.stringify(line));
        assert.match(
          after[1],
          /\x1b\[(0|0;7|39)m/,
          `the severity colour must end with its cell: ${JSON.stringify(line)}`,
        );
      }
    }),
});

Deno.test({
  name: "tui NO_COLOR leaves no escape codes",
  ignore: !tmuxAvailable(),
  fn: () =>
    withTui(async ({ tmux }) => {
      await tmux.keys("j");
      await tmux.waitFor((text) => !selectedRow(text).includes("grafana-tls"), "j");
      const screen = await tmux.screen({ escapes: true });
      assert.doesNotMatch(screen, /\x1b/, "no escape code on screen");
      assert.match(screen, /^› CRIT/m, "the marker shows the selection without colours");
    }, { env: { NO_COLOR: "1" } }),
});
