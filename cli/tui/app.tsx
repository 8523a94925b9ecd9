/** @jsxImportSource npm:react@19.3.1 */
/** @jsxImportSourceTypes npm:@types/react@19.3.3 */
/**
 * The TUI of `trustwatch now`: header, findings list and detail panel, driven by the keyboard.
 * It lays itself out for the terminal's current size and redraws on resize.
 *
 * @module
 */
import { Box, Text, useApp, useInput, useWindowSize } from "ink";
import { useEffect, useRef, useState } from "react";
import type { Snapshot } from "../../core/model.ts";
import type { ScanProgress } from "../../core/scan.ts";
import { fit } from "./cells.ts";
import { DetailPanel } from "./detail_panel.tsx";
import { FindingList } from "./finding_list.tsx";
import { Header, headerHeight, type RescanStatus } from "./header.tsx";
import type { Palette } from "./palette.ts";
import {
  commandForKey,
  INITIAL_VIEW,
  keepSelectionVisible,
  type KeyFlags,
  reduceView,
  type ViewState,
  visibleFindings,
} from "./view_state.ts";

/** Runs one more scan, reporting progress; rejects when it fails or `signal` aborts it. */
export type Rescan = (
  onProgress: (event: ScanProgress) => void,
  signal: AbortSignal,
) => Promise<Snapshot>;

/** Props of {@linkcode App}. */
export interface AppProps {
  snapshot: Snapshot;
  contextName: string;
  cluster: string;
  rescan: Rescan;
  /** Called with each new snapshot, so the caller exits with the latest scan's exit code. */
  onSnapshot: (snapshot: Snapshot) => void;
  palette: Palette;
}

/** Share of the screen the detail panel takes below the list. */
const DETAIL_SHARE = 0.4;
/** Minimum height of the detail panel in lines, title included. */
const MIN_DETAIL_LINES = 6;
/** Lines below the panels: the key help or the search prompt. */
const FOOTER_LINES = 1;

const KEY_HELP = "j/k move · g/G top/bottom · 1-9 row · / search · tab severity · " +
  "i inventory · enter detail · r rescan · q quit";

/** Renders the whole screen and handles the keys. */
export function App(props: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [snapshot, setSnapshot] = useState(props.snapshot);
  const [view, setView] = useState<ViewState>(INITIAL_VIEW);
  const [rescan, setRescan] = useState<RescanStatus>({ running: false, found: 0, checked: 0 });
  const [now, setNow] = useState(() => new Date());
  const rescanAbort = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);

  const width = Math.max(20, columns);
  const height = Math.max(10, rows - 1);
  const findings = visibleFindings(snapshot, view);
  const top = headerHeight(snapshot, rescan);
  const detailHeight = view.detailExpanded
    ? height - top - FOOTER_LINES
    : Math.max(MIN_DETAIL_LINES, Math.floor(height * DETAIL_SHARE));
  const listRows = view.detailExpanded
    ? 0
    : Math.max(1, height - top - 1 - detailHeight - FOOTER_LINES);
  const shownView = keepSelectionVisible(view, { count: findings.length, pageRows: listRows });

  const startRescan = () => {
    if (rescan.running) return;
    const controller = new AbortController();
    rescanAbort.current = controller;
    let found = 0;
    let checked = 0;
    setRescan({ running: true, found, checked });
    props.rescan((event) => {
      if (event.phase === "target") found++;
      if (event.phase === "checked") checked++;
      setRescan({ running: true, found, checked });
    }, controller.signal).then(
      (next) => {
        props.onSnapshot(next);
        setSnapshot(next);
        setRescan({ running: false, found, checked });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setRescan({ running: false, found, checked, error: (error as Error).message });
      },
    );
  };

  useInput((input, key) => {
    let next = shownView;
    for (const [character, flags] of splitKeys(input, key)) {
      const command = commandForKey(character, flags, next);
      if (!command) continue;
      if (command.type === "quit") {
        rescanAbort.current?.abort(new Error("TUI closed"));
        exit();
        return;
      }
      if (command.type === "rescan") {
        startRescan();
        continue;
      }
      const count = visibleFindings(snapshot, next).length;
      next = reduceView(next, command, { count, pageRows: listRows });
    }
    setView(next);
  });

  const emptyText = snapshot.findings.length === 0
    ? "No certificates found"
    : view.showInventory || view.query || view.filter !== "all"
    ? "No finding matches; esc clears the search, tab changes the filter"
    : `No certificate problems found; i shows ${snapshot.findings.length} healthy`;
  const selected = findings[shownView.selected];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header
        snapshot={snapshot}
        contextName={props.contextName}
        cluster={props.cluster}
        view={shownView}
        shown={findings.length}
        width={width}
        now={now}
        rescan={rescan}
        palette={props.palette}
      />
      {!view.detailExpanded && (
        <FindingList
          findings={findings}
          selected={shownView.selected}
          scrollTop={shownView.scrollTop}
          rows={listRows}
          width={width}
          now={now}
          palette={props.palette}
          emptyText={emptyText}
        />
      )}
      <Box flexGrow={1} flexDirection="column" justifyContent="flex-end">
        <DetailPanel
          finding={selected}
          height={detailHeight}
          width={width}
          scroll={shownView.detailScroll}
          expanded={shownView.detailExpanded}
          now={now}
          palette={props.palette}
        />
      </Box>
      <Text wrap="truncate-end" {...props.palette.dim}>
        {fit(footerText(shownView), width)}
      </Text>
    </Box>
  );
}

/** Control characters that arrive inside a multi-character read, as the key flags they stand for. */
const CONTROL_KEYS: Record<string, KeyFlags> = {
  "\r": { return: true },
  "\t": { tab: true },
  "\x7f": { backspace: true },
  "\x1b": { escape: true },
};

/**
 * Splits input that arrived in one read (fast typing, `tmux send-keys`, a paste) into single
 * keys, because ink hands such a read over as one string.
 */
function splitKeys(input: string, key: KeyFlags): [string, KeyFlags][] {
  if (input.length <= 1 || key.ctrl) return [[input, key]];
  return Array.from(input, (character) => [character, CONTROL_KEYS[character] ?? {}]);
}

function footerText(view: ViewState): string {
  if (view.searchDraft !== undefined) {
    return `/${view.searchDraft}▏ enter applies · esc clears`;
  }
  if (view.detailExpanded) return "j/k scroll · enter/esc back to the list · q quit";
  return KEY_HELP;
}
