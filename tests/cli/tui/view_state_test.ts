import assert from "node:assert/strict";
import type { Finding, Severity, Snapshot } from "../../../core/model.ts";
import {
  commandForKey,
  INITIAL_VIEW,
  reduceView,
  type ViewState,
  visibleFindings,
} from "../../../cli/tui/view_state.ts";

function finding(severity: Severity, name: string, extra: Partial<Finding> = {}): Finding {
  return {
    source: "k8s.tlsSecret",
    severity,
    probeOk: true,
    notAfter: "2030-01-01T00:00:00Z",
    name,
    namespace: "payments",
    ...extra,
  };
}

const SNAPSHOT: Snapshot = {
  at: "2026-01-01T00:00:00Z",
  errors: [],
  findings: [
    finding("critical", "expired-tls"),
    finding("warn", "hook", {
      source: "k8s.webhook",
      namespace: undefined,
      target: "hook.svc:443",
    }),
    finding("warn", "checkout-tls", { namespace: "shop" }),
    finding("info", "api-tls"),
  ],
};

function names(view: ViewState): string[] {
  return visibleFindings(SNAPSHOT, view).map((entry) => entry.name!);
}

Deno.test("view hides inventory until i", () => {
  assert.deepEqual(names(INITIAL_VIEW), ["expired-tls", "hook", "checkout-tls"]);
  const withInventory = reduceView(INITIAL_VIEW, { type: "toggleInventory" }, {
    count: 3,
    pageRows: 10,
  });
  assert.deepEqual(names(withInventory), ["expired-tls", "hook", "checkout-tls", "api-tls"]);
});

Deno.test("view search covers name, namespace, source, target", () => {
  const search = (query: string) => names({ ...INITIAL_VIEW, showInventory: true, query });
  assert.deepEqual(search("CHECKOUT"), ["checkout-tls"]);
  assert.deepEqual(search("shop"), ["checkout-tls"]);
  assert.deepEqual(search("k8s.webhook"), ["hook"]);
  assert.deepEqual(search("svc:443"), ["hook"]);
  assert.deepEqual(search("nothing"), []);
});

Deno.test("view tab skips info while inventory is hidden", () => {
  const bounds = { count: 3, pageRows: 10 };
  let view = INITIAL_VIEW;
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    view = reduceView(view, { type: "cycleFilter" }, bounds);
    seen.push(view.filter);
  }
  assert.deepEqual(seen, ["critical", "warn", "all", "critical"]);

  view = { ...INITIAL_VIEW, showInventory: true, filter: "warn" };
  view = reduceView(view, { type: "cycleFilter" }, bounds);
  assert.equal(view.filter, "info");
  view = reduceView(view, { type: "toggleInventory" }, bounds);
  assert.equal(view.filter, "all", "hiding inventory drops the info filter");
});

Deno.test("view keeps selection within list and page", () => {
  const bounds = { count: 30, pageRows: 5 };
  let view = reduceView(INITIAL_VIEW, { type: "bottom" }, bounds);
  assert.equal(view.selected, 29);
  assert.equal(view.scrollTop, 25);
  view = reduceView(view, { type: "move", by: 1 }, bounds);
  assert.equal(view.selected, 29);
  view = reduceView(view, { type: "jump", row: 2 }, bounds);
  assert.equal(view.selected, 26, "digits jump to a row on screen");
  view = reduceView(view, { type: "top" }, bounds);
  assert.deepEqual([view.selected, view.scrollTop], [0, 0]);
  view = reduceView(view, { type: "move", by: -1 }, bounds);
  assert.equal(view.selected, 0);
  view = reduceView(view, { type: "jump", row: 9 }, { count: 3, pageRows: 5 });
  assert.equal(view.selected, 2, "a jump past the end selects the last row");
});

Deno.test("view search applies on enter, esc clears", () => {
  const bounds = { count: 3, pageRows: 10 };
  let view = reduceView(INITIAL_VIEW, { type: "startSearch" }, bounds);
  view = reduceView(view, { type: "typeSearch", text: "shopx" }, bounds);
  view = reduceView(view, { type: "deleteSearch" }, bounds);
  assert.equal(view.searchDraft, "shop");
  assert.equal(view.query, "", "typing does not filter yet");
  view = reduceView(view, { type: "applySearch" }, bounds);
  assert.equal(view.query, "shop");
  assert.equal(view.searchDraft, undefined);
  view = reduceView(view, { type: "clearSearch" }, bounds);
  assert.equal(view.query, "");
});

Deno.test("keys map to commands by mode", () => {
  const list = INITIAL_VIEW;
  const searching = { ...INITIAL_VIEW, searchDraft: "" };
  assert.deepEqual(commandForKey("j", {}, list), { type: "move", by: 1 });
  assert.deepEqual(commandForKey("", { downArrow: true }, list), { type: "move", by: 1 });
  assert.deepEqual(commandForKey("k", {}, list), { type: "move", by: -1 });
  assert.deepEqual(commandForKey("G", {}, list), { type: "bottom" });
  assert.deepEqual(commandForKey("g", {}, list), { type: "top" });
  assert.deepEqual(commandForKey("7", {}, list), { type: "jump", row: 7 });
  assert.deepEqual(commandForKey("", { tab: true }, list), { type: "cycleFilter" });
  assert.deepEqual(commandForKey("i", {}, list), { type: "toggleInventory" });
  assert.deepEqual(commandForKey("r", {}, list), { type: "rescan" });
  assert.deepEqual(commandForKey("q", {}, list), { type: "quit" });
  assert.deepEqual(commandForKey("c", { ctrl: true }, searching), { type: "quit" });
  assert.deepEqual(commandForKey("q", {}, searching), { type: "typeSearch", text: "q" });
  assert.deepEqual(commandForKey("", { return: true }, searching), { type: "applySearch" });
  assert.deepEqual(commandForKey("", { escape: true }, searching), { type: "clearSearch" });
  assert.equal(commandForKey("0", {}, list), undefined);
});
