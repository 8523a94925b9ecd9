/**
 * A tmux session on its own server socket, for tests that need the CLI on a real terminal: the
 * TUI, and progress on stderr. Every session gets a unique `-L` socket name, so parallel tests
 * never share a tmux server, and `close()` kills only that server.
 *
 * @module
 */

/** Repository root, where `deno task trustwatch` runs. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** Maximum wait for a screen to appear; generous, because CI machines are shared and slow. */
export const SCREEN_TIMEOUT_MS = 90_000;

const POLL_INTERVAL_MS = 150;

/** Options of {@linkcode startTmux}. */
export interface TmuxOptions {
  /** @default {120} */
  columns?: number;
  /** @default {40} */
  rows?: number;
  /** Variables set in the session's shell; `undefined` removes an inherited one. */
  env?: Record<string, string | undefined>;
}

/** Returns whether tmux is installed, printing the reason to skip when it is not. */
export function tmuxAvailable(): boolean {
  try {
    const { success } = new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync();
    return success;
  } catch {
    console.log("skipped: tmux is not installed");
    return false;
  }
}

/** A running tmux session with one pane running bash without start-up files. */
export class TmuxSession {
  readonly socket: string;
  readonly directory: string;

  constructor(socket: string, directory: string) {
    this.socket = socket;
    this.directory = directory;
  }

  /** Runs a tmux command on this session's server and returns its stdout. */
  async tmux(...args: string[]): Promise<string> {
    const { success, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    if (!success) throw new Error(`tmux ${args.join(" ")}: ${decoder.decode(stderr)}`);
    return decoder.decode(stdout);
  }

  /** Types a line into the shell and presses Enter. */
  async run(commandLine: string): Promise<void> {
    await this.tmux("send-keys", "-t", "test", "-l", commandLine);
    await this.tmux("send-keys", "-t", "test", "Enter");
  }

  /** Sends keys by tmux name (`Enter`, `Escape`, `Tab`, `Down`, `C-c`) or literal text. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "test", ...keys);
  }

  /** Sends text literally, character by character as one write. */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "test", "-l", text);
  }

  /** Returns the visible screen as plain text, or with escape codes when `escapes` is set. */
  async screen(options: { escapes?: boolean } = {}): Promise<string> {
    return await this.tmux("capture-pane", "-p", "-t", "test", ...(options.escapes ? ["-e"] : []));
  }

  /**
   * Polls the screen until `predicate` returns true and returns that screen. Fails with the last
   * screen when {@linkcode SCREEN_TIMEOUT_MS} passes first.
   */
  async waitFor(predicate: (screen: string) => boolean, what: string): Promise<string> {
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (predicate(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`timed out waiting for ${what}; last screen:\n${screen}`);
  }

  /** Waits until a file exists and is not empty, and returns its text. */
  async waitForFile(path: string, what: string): Promise<string> {
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        const text = await Deno.readTextFile(path);
        if (text.trim() !== "") return text;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`timed out waiting for ${what}; last screen:\n${await this.screen()}`);
  }

  /** Kills this session's tmux server, removes its socket file and its temporary directory. */
  async close(): Promise<void> {
    let socketPath: string | undefined;
    try {
      socketPath = (await this.tmux("display-message", "-p", "#{socket_path}")).trim();
      await this.tmux("kill-server");
    } catch {
      // The server is already gone when its last session ended.
    }
    if (socketPath) {
      await Deno.remove(socketPath).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    await Deno.remove(this.directory, { recursive: true });
  }
}

/** Starts a detached tmux session in the repository root, with a prompt of `$ `. */
export async function startTmux(options: TmuxOptions = {}): Promise<TmuxSession> {
  const socket = `trustwatch-test-${crypto.randomUUID().slice(0, 12)}`;
  const directory = await Deno.makeTempDir({ prefix: "trustwatch-tmux-" });
  const env: Record<string, string> = { ...Deno.env.toObject(), PS1: "$ " };
  delete env.TMUX;
  delete env.NO_COLOR;
  // ink renders only the final frame when it detects CI, as .ci/run sets it; a person at a
  // terminal has none of these.
  for (const name of Object.keys(env)) {
    if (name === "CI" || name === "CONTINUOUS_INTEGRATION" || name.startsWith("CI_")) {
      delete env[name];
    }
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const session = new TmuxSession(socket, directory);
  const { success, stderr } = await new Deno.Command("tmux", {
    args: [
      "-L",
      socket,
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "test",
      "-x",
      String(options.columns ?? 120),
      "-y",
      String(options.rows ?? 40),
      "-c",
      REPO_ROOT,
      "bash --norc --noprofile",
    ],
    env,
    clearEnv: true,
    stderr: "piped",
  }).output();
  if (!success) {
    await Deno.remove(directory, { recursive: true });
    throw new Error(`tmux new-session failed: ${new TextDecoder().decode(stderr)}`);
  }
  await session.tmux("set-option", "-g", "status", "off");
  return session;
}

/** Quotes a word for bash. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}
