/**
 * The scan loop of `serve`: one scan at start, then one every interval, never two at once. A
 * scan that takes longer than the interval is logged, and the next one starts right after it.
 *
 * @module
 */
import { getLogger, type Logger } from "@logtape/logtape";
import type { Snapshot } from "../core/model.ts";

/** Time {@linkcode ScanLoop.stop} waits for an aborted scan to return before giving up on it. */
export const STOP_GRACE_MS = 5_000;

/** Options of {@linkcode ScanLoop}. */
export interface ScanLoopOptions {
  /** Time from the start of one scan to the start of the next, in milliseconds. */
  intervalMs: number;
  /** Runs one scan; aborting `signal` cancels it. */
  scan: (signal: AbortSignal) => Promise<Snapshot>;
  /** Receives every completed scan. */
  onSnapshot?: (snapshot: Snapshot, timing: { durationMs: number; completedAtMs: number }) => void;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  logger?: Logger;
}

/** Progress of the loop, read by the health checks. */
export interface ScanStatus {
  /** Unix milliseconds the loop started. */
  startedAtMs: number;
  /** The snapshot of the last completed scan. */
  snapshot?: Snapshot;
  /** Unix milliseconds the last scan completed. */
  lastCompletedAtMs?: number;
  lastDurationMs?: number;
  scanning: boolean;
  scansCompleted: number;
  /** Scans that took longer than the interval. */
  overruns: number;
}

/** Runs scans on a schedule until stopped. */
export class ScanLoop {
  #options: ScanLoopOptions;
  #now: () => number;
  #logger: Logger;
  #status: ScanStatus;
  #stop = new AbortController();
  #running?: Promise<void>;

  constructor(options: ScanLoopOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? getLogger(["trustwatch", "serve", "loop"]);
    this.#status = { startedAtMs: this.#now(), scanning: false, scansCompleted: 0, overruns: 0 };
  }

  /** A copy of the loop's current status. */
  get status(): ScanStatus {
    return { ...this.#status };
  }

  /** Starts the loop; the first scan begins at once. Calling it again has no effect. */
  start(): void {
    if (this.#running) return;
    this.#status.startedAtMs = this.#now();
    this.#running = this.#run();
  }

  /**
   * Stops the loop: cancels the scan in progress and the wait for the next one. Resolves when
   * the loop has ended, or after {@linkcode STOP_GRACE_MS} when an aborted scan does not return.
   */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("trustwatch is shutting down"));
    if (!this.#running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#logger.warn("the cancelled scan did not return within {ms} ms; leaving it", {
          ms: STOP_GRACE_MS,
        });
        resolve();
      }, STOP_GRACE_MS);
    });
    try {
      await Promise.race([this.#running, grace]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    const stopSignal = this.#stop.signal;
    const { intervalMs } = this.#options;
    while (!stopSignal.aborted) {
      const startedMs = this.#now();
      await this.#scanOnce(stopSignal, startedMs);
      if (stopSignal.aborted) break;

      const elapsedMs = this.#now() - startedMs;
      if (elapsedMs > intervalMs) {
        this.#status.overruns++;
        this.#logger.warn(
          "scan took {seconds}s, longer than the refresh interval of {intervalSeconds}s; " +
            "the next scan starts now",
          { seconds: round(elapsedMs / 1000), intervalSeconds: round(intervalMs / 1000) },
        );
      }
      await sleep(Math.max(0, intervalMs - elapsedMs), stopSignal);
    }
    this.#logger.info("scan loop stopped after {count} scans", {
      count: this.#status.scansCompleted,
    });
  }

  async #scanOnce(stopSignal: AbortSignal, startedMs: number): Promise<void> {
    this.#status.scanning = true;
    try {
      const snapshot = await this.#options.scan(stopSignal);
      // A scan cut short by shutdown is incomplete: keep the previous snapshot.
      if (stopSignal.aborted) return;
      const completedAtMs = this.#now();
      const durationMs = completedAtMs - startedMs;
      this.#status.snapshot = snapshot;
      this.#status.lastCompletedAtMs = completedAtMs;
      this.#status.lastDurationMs = durationMs;
      this.#status.scansCompleted++;
      this.#options.onSnapshot?.(snapshot, { durationMs, completedAtMs });
    } catch (error) {
      if (stopSignal.aborted) return;
      this.#logger.error("scan failed: {message}", {
        message: (error as Error).message ?? String(error),
      });
    } finally {
      this.#status.scanning = false;
    }
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
