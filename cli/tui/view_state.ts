/**
 * The TUI's view state apart from the snapshot (selection, scroll position, severity filter,
 * search and inventory toggle) and the key bindings that change it. The functions are pure, so
 * the behaviour of every key can be tested without a terminal.
 *
 * @module
 */
import type { Finding, Severity, Snapshot } from "../../core/model.ts";

/** Severity filter cycled by `tab`; `all` shows every severity the inventory toggle allows. */
export type SeverityFilter = "all" | Severity;

/** Filters in the order `tab` cycles through them. */
export const SEVERITY_FILTERS: readonly SeverityFilter[] = ["all", "critical", "warn", "info"];

/** The view of the findings list. */
export interface ViewState {
  /** Index of the selected row in the filtered list. */
  selected: number;
  /** Index of the first row on screen. */
  scrollTop: number;
  filter: SeverityFilter;
  /** Whether healthy (info) findings are listed. */
  showInventory: boolean;
  /** Applied search text; empty when no search is active. */
  query: string;
  /** Search text being typed after `/`; undefined when not typing. */
  searchDraft?: string;
  /** Whether the detail panel fills the screen. */
  detailExpanded: boolean;
  /** First line of the detail panel shown when it is expanded. */
  detailScroll: number;
}

/** The view when the TUI opens: problems only, nothing filtered or searched. */
export const INITIAL_VIEW: ViewState = {
  selected: 0,
  scrollTop: 0,
  filter: "all",
  showInventory: false,
  query: "",
  detailExpanded: false,
  detailScroll: 0,
};

/** A change to the view, produced by a key. */
export type ViewAction =
  | { type: "move"; by: number }
  | { type: "top" }
  | { type: "bottom" }
  | { type: "jump"; row: number }
  | { type: "startSearch" }
  | { type: "typeSearch"; text: string }
  | { type: "deleteSearch" }
  | { type: "applySearch" }
  | { type: "clearSearch" }
  | { type: "cycleFilter" }
  | { type: "toggleInventory" }
  | { type: "toggleDetail" }
  | { type: "scrollDetail"; by: number };

/** The command of a key: a view change, a rescan, or quit. */
export type KeyCommand = ViewAction | { type: "rescan" } | { type: "quit" };

/** The subset of ink's key flags the bindings read. */
export interface KeyFlags {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

/** Returns the findings the list shows: inventory toggle, severity filter and search applied. */
export function visibleFindings(snapshot: Snapshot, view: ViewState): Finding[] {
  const query = view.query.toLowerCase();
  return snapshot.findings.filter((finding) => {
    if (finding.severity === "info" && !view.showInventory) return false;
    if (view.filter !== "all" && finding.severity !== view.filter) return false;
    return query === "" || searchText(finding).includes(query);
  });
}

/** Text a search matches: name, namespace, source and target, lower-cased. */
function searchText(finding: Finding): string {
  return [finding.name, finding.namespace, finding.source, finding.target]
    .filter((part) => part !== undefined)
    .join("\n")
    .toLowerCase();
}

/** Maps a key press to a command; undefined for keys without a binding. */
export function commandForKey(
  input: string,
  key: KeyFlags,
  view: ViewState,
): KeyCommand | undefined {
  if (key.ctrl && input === "c") return { type: "quit" };
  if (view.searchDraft !== undefined) return searchCommand(input, key);
  if (view.detailExpanded) {
    if (key.escape || key.return) return { type: "toggleDetail" };
    if (input === "j" || key.downArrow) return { type: "scrollDetail", by: 1 };
    if (input === "k" || key.upArrow) return { type: "scrollDetail", by: -1 };
  }
  if (input === "q") return { type: "quit" };
  if (input === "j" || key.downArrow) return { type: "move", by: 1 };
  if (input === "k" || key.upArrow) return { type: "move", by: -1 };
  if (key.pageDown) return { type: "move", by: 10 };
  if (key.pageUp) return { type: "move", by: -10 };
  if (input === "g" || key.home) return { type: "top" };
  if (input === "G" || key.end) return { type: "bottom" };
  if (/^[1-9]$/.test(input)) return { type: "jump", row: Number(input) };
  if (input === "/") return { type: "startSearch" };
  if (key.escape && !view.detailExpanded) return { type: "clearSearch" };
  if (key.tab) return { type: "cycleFilter" };
  if (input === "i") return { type: "toggleInventory" };
  if (input === "r") return { type: "rescan" };
  if (key.return) return { type: "toggleDetail" };
  return undefined;
}

function searchCommand(input: string, key: KeyFlags): KeyCommand | undefined {
  if (key.return) return { type: "applySearch" };
  if (key.escape) return { type: "clearSearch" };
  if (key.backspace || key.delete) return { type: "deleteSearch" };
  if (key.ctrl || key.tab || key.upArrow || key.downArrow) return undefined;
  const printable = Array.from(input).filter((character) => character >= " ").join("");
  return printable ? { type: "typeSearch", text: printable } : undefined;
}

/** Sizes the reducer needs: rows in the filtered list and rows that fit on screen. */
export interface ViewBounds {
  count: number;
  pageRows: number;
}

/** Applies one action and returns the new view; selection and scroll stay within bounds. */
export function reduceView(view: ViewState, action: ViewAction, bounds: ViewBounds): ViewState {
  const next = applyAction(view, action, bounds);
  return keepSelectionVisible(next, bounds);
}

function applyAction(view: ViewState, action: ViewAction, bounds: ViewBounds): ViewState {
  switch (action.type) {
    case "move":
      return { ...view, selected: view.selected + action.by };
    case "top":
      return { ...view, selected: 0 };
    case "bottom":
      return { ...view, selected: bounds.count - 1 };
    case "jump":
      return { ...view, selected: view.scrollTop + action.row - 1 };
    case "startSearch":
      return { ...view, searchDraft: view.query };
    case "typeSearch":
      return { ...view, searchDraft: (view.searchDraft ?? "") + action.text };
    case "deleteSearch":
      return { ...view, searchDraft: Array.from(view.searchDraft ?? "").slice(0, -1).join("") };
    case "applySearch":
      return { ...view, query: view.searchDraft ?? "", searchDraft: undefined, selected: 0 };
    case "clearSearch":
      return { ...view, query: "", searchDraft: undefined, selected: 0 };
    case "cycleFilter":
      return { ...view, filter: nextFilter(view), selected: 0 };
    case "toggleInventory": {
      const showInventory = !view.showInventory;
      const filter = !showInventory && view.filter === "info" ? "all" : view.filter;
      return { ...view, showInventory, filter, selected: 0 };
    }
    case "toggleDetail":
      return { ...view, detailExpanded: !view.detailExpanded, detailScroll: 0 };
    case "scrollDetail":
      return { ...view, detailScroll: Math.max(0, view.detailScroll + action.by) };
  }
}

/** `tab` skips the info filter while healthy inventory is hidden, since it would list nothing. */
function nextFilter(view: ViewState): SeverityFilter {
  const choices = SEVERITY_FILTERS.filter((filter) => filter !== "info" || view.showInventory);
  const index = choices.indexOf(view.filter);
  return choices[(index + 1) % choices.length];
}

/** Clamps the selection to the list and scrolls so the selected row is on screen. */
export function keepSelectionVisible(view: ViewState, bounds: ViewBounds): ViewState {
  const pageRows = Math.max(1, bounds.pageRows);
  const selected = Math.min(Math.max(0, view.selected), Math.max(0, bounds.count - 1));
  let scrollTop = Math.min(view.scrollTop, Math.max(0, bounds.count - pageRows));
  if (selected < scrollTop) scrollTop = selected;
  if (selected >= scrollTop + pageRows) scrollTop = selected - pageRows + 1;
  scrollTop = Math.max(0, scrollTop);
  if (selected === view.selected && scrollTop === view.scrollTop) return view;
  return { ...view, selected, scrollTop };
}
