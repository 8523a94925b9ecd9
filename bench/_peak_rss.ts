/**
 * Peak resident memory of the current process, for the benchmark workers.
 *
 * @module
 */

/**
 * Returns the process's peak resident set size in bytes: `VmHWM` from `/proc/self/status` on
 * Linux, else the current RSS from `Deno.memoryUsage()` (a lower bound of the peak).
 */
export function peakRssBytes(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through to the current RSS.
  }
  return Deno.memoryUsage().rss;
}

/** What each worker prints as its last line of stdout, as JSON. */
export interface WorkerResult {
  /** Milliseconds from process start (module loading included) to the end of the work. */
  wallMs: number;
  peakRssBytes: number;
  /** Counts that show both measurements did the same work. */
  counts: Record<string, number>;
}

/** Parameters the orchestrator hands to the workers in a JSON file. */
export interface WorkerParameters {
  kubeconfigPath: string;
  url: string;
  token: string;
  caPem: string;
  /** `HOST:PORT:ADDR` for every TLS backend. */
  resolveEntries: string[];
  concurrency: number;
}
