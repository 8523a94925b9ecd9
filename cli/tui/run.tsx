/** @jsxImportSource npm:react@19.3.1 */
/** @jsxImportSourceTypes npm:@types/react@19.3.3 */
/**
 * Runs the TUI on the terminal's alternate screen until `q` or `ctrl+c`, then restores the
 * screen and returns the exit code of the latest scan.
 *
 * @module
 */
import process from "node:process";
import { render } from "ink";
import { exitCodeFor, type Snapshot } from "../../core/model.ts";
import type { LoggingOptions } from "../logging.ts";
import { App, type Rescan } from "./app.tsx";
import { holdLogs, releaseLogs } from "./held_logs.ts";
import { colorsEnabled, paletteFor } from "./palette.ts";

/** Options of {@linkcode runTui}. */
export interface TuiOptions {
  snapshot: Snapshot;
  contextName: string;
  /** Cluster name from the config, or the API server URL. */
  cluster: string;
  /** Runs another scan with the same settings, for `r`. */
  rescan: Rescan;
  /** Logging settings, restored when the TUI closes. */
  logging: LoggingOptions;
}

/** Shows the snapshot in the TUI and returns the exit code of the last snapshot shown. */
export async function runTui(options: TuiOptions): Promise<number> {
  let latest = options.snapshot;
  const held = await holdLogs(options.logging);
  try {
    const instance = render(
      <App
        snapshot={options.snapshot}
        contextName={options.contextName}
        cluster={options.cluster}
        rescan={options.rescan}
        onSnapshot={(snapshot) => {
          latest = snapshot;
        }}
        palette={paletteFor(colorsEnabled())}
      />,
      { alternateScreen: true, exitOnCtrlC: false, patchConsole: true },
    );
    await instance.waitUntilExit();
  } finally {
    await releaseLogs(held, options.logging);
  }
  const exitCode = exitCodeFor(latest);
  // ink's signal-exit hook ends the process through Node's process.reallyExit with
  // process.exitCode, which Deno does not keep in step with Deno.exitCode.
  process.exitCode = exitCode;
  return exitCode;
}
