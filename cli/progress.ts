/**
 * Scan progress on a terminal's stderr: one status line with a spinner and, per discoverer, the
 * targets checked out of those found so far. The line is redrawn in place and erased when the
 * scan ends, so it never mixes with the output on stdout.
 *
 * @module
 */
import type { ScanProgress } from "../core/scan.ts";

/** How often the status line is redrawn. */
export const PROGRESS_REDRAW_INTERVAL_MS = 120;

/** Spinner frames, drawn one per redraw. */
const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Carriage return and "erase to end of line": the line is rewritten from its start. */
const REWRITE_LINE = "\r\x1b[K";

/** Destination of the progress line: a synchronous writer such as `Deno.stderr`. */
export interface ProgressSink {
  writeSync(bytes: Uint8Array): number;
}

/** Options of {@linkcode ScanProgressLine}. */
export interface ScanProgressLineOptions {
  /** Destination of the line. @default {Deno.stderr} */
  sink?: ProgressSink;
  /** Terminal width in columns; the line is cut to fit it. */
  columns?: () => number;
  /** @default {PROGRESS_REDRAW_INTERVAL_MS} */
  redrawIntervalMs?: number;
}

type DiscovererState = "running" | "done" | "error";

interface DiscovererProgress {
  state: DiscovererState;
  found: number;
  checked: number;
}

/**
 * A spinner line that counts per-discoverer progress: `⠹ scanning · k8s.webhook 3/5 · …`.
 *
 * @example
 * ```ts
 * const progress = new ScanProgressLine();
 * progress.start();
 * try {
 *   await runScan({ ...options, onProgress: (event) => progress.update(event) });
 * } finally {
 *   progress.stop();
 * }
 * ```
 */
export class ScanProgressLine {
  #sink: ProgressSink;
  #columns: () => number;
  #redrawIntervalMs: number;
  #discoverers = new Map<string, DiscovererProgress>();
  #frame = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #drawn = false;

  constructor(options: ScanProgressLineOptions = {}) {
    this.#sink = options.sink ?? Deno.stderr;
    this.#columns = options.columns ?? terminalColumns;
    this.#redrawIntervalMs = options.redrawIntervalMs ?? PROGRESS_REDRAW_INTERVAL_MS;
  }

  /** Starts redrawing the line on a timer. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.#redrawIntervalMs);
  }

  /** Records one progress event of the scan; the next redraw shows it. */
  update(event: ScanProgress): void {
    let entry = this.#discoverers.get(event.source);
    if (!entry) {
      entry = { state: "running", found: 0, checked: 0 };
      this.#discoverers.set(event.source, entry);
    }
    if (event.phase === "target") entry.found++;
    else if (event.phase === "checked") entry.checked++;
    else if (event.phase === "done") entry.state = "done";
    else if (event.phase === "error") entry.state = "error";
  }

  /** Stops the timer and erases the line, leaving the cursor at the start of an empty line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.#write(REWRITE_LINE);
    this.#drawn = false;
  }

  /** Returns the text of the line as it is drawn now, without terminal control codes. */
  text(): string {
    const spinner = SPINNER_FRAMES[this.#frame % SPINNER_FRAMES.length];
    const parts = [...this.#discoverers].map(([source, entry]) => {
      const mark = entry.state === "done" && entry.checked >= entry.found
        ? " ✓"
        : entry.state === "error"
        ? " ✗"
        : "";
      return `${source} ${entry.checked}/${entry.found}${mark}`;
    });
    return [`${spinner} scanning`, ...parts].join(" · ");
  }

  #draw(): void {
    this.#frame++;
    this.#write(REWRITE_LINE + fitToWidth(this.text(), this.#columns()));
    this.#drawn = true;
  }

  #write(text: string): void {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += this.#sink.writeSync(bytes.subarray(written));
  }
}

/** Returns whether progress is shown: only when stderr is a terminal and the run is not quiet. */
export function shouldShowProgress(options: { quiet?: boolean }): boolean {
  return !options.quiet && Deno.stderr.isTerminal();
}

/** Cuts text to one column less than the terminal width, so the cursor never wraps. */
function fitToWidth(text: string, columns: number): string {
  const characters = Array.from(text);
  const room = Math.max(1, columns - 1);
  if (characters.length <= room) return text;
  return characters.slice(0, room - 1).join("") + "…";
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
