/**
 * `trustwatch socks5`: the SOCKS5 relay. Run in a Pod (`--tunnel-command /trustwatch,socks5`),
 * it lets `now --tunnel` reach in-cluster names through a port-forward.
 *
 * @module
 */
import { collect } from "./repeatable_option.ts";
import { Command, Option } from "@commander-js/extra-typings";
import { getLogger } from "@logtape/logtape";
import { parseDuration, timerDurationProblem } from "../core/duration.ts";
import { EXIT_CODES } from "../core/model.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_SOCKS5_PORT,
  startSocks5Server,
} from "../core/socks5/server.ts";
import { LOG_FORMATS, LOG_LEVELS, setUpLogging } from "./logging.ts";

/** Environment variable that sets `--user`. */
export const SOCKS5_USER_ENV = "TRUSTWATCH_SOCKS5_USER";
/** Environment variable that sets `--password`, so the password stays out of `ps` output. */
export const SOCKS5_PASSWORD_ENV = "TRUSTWATCH_SOCKS5_PASSWORD";

/** Builds the `socks5` command. */
export function socks5Command(): Command {
  return new Command("socks5")
    .description("Run a SOCKS5 relay (CONNECT only) for probing from outside the cluster")
    .option(
      "--listen <address>",
      "address to listen on: :PORT for every interface, HOST:PORT or [IPv6]:PORT",
      `:${DEFAULT_SOCKS5_PORT}`,
    )
    .addOption(
      new Option("--user <name>", "require this username (RFC 1929); needs --password too")
        .env(SOCKS5_USER_ENV),
    )
    .addOption(
      new Option("--password <password>", "require this password; prefer the environment variable")
        .env(SOCKS5_PASSWORD_ENV),
    )
    .option(
      "--connect-timeout <duration>",
      "time limit of one connection to a destination",
      `${DEFAULT_CONNECT_TIMEOUT_MS / 1000}s`,
    )
    .option(
      "--max-connections <count>",
      "client connections served at once; more are closed on arrival",
      String(DEFAULT_MAX_CONNECTIONS),
    )
    .addOption(
      new Option("--resolve <host:port:addr>", "connect to ADDR for HOST:PORT; repeatable")
        .argParser(collect).default([] as string[]).hideHelp(),
    )
    .addOption(
      new Option("--resolve-only", "connect only to --resolve entries and loopback addresses")
        .hideHelp(),
    )
    .addOption(
      new Option("--log-level <level>", "log level on stderr; debug logs every connection")
        .choices(LOG_LEVELS).default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "log format on stderr").choices(LOG_FORMATS).default(
        "text",
      ),
    )
    .addHelpText(
      "after",
      `
Names are resolved with this host's resolver, so inside a Pod in-cluster names such as
webhook.cert-manager.svc work. Stop with SIGINT or SIGTERM.

Examples:
  trustwatch socks5 --listen 127.0.0.1:1080
  ${SOCKS5_USER_ENV}=probe ${SOCKS5_PASSWORD_ENV}=secret trustwatch socks5
  curl --socks5-hostname 127.0.0.1:1080 -k https://webhook.cert-manager.svc`,
    )
    .action(async (options) => {
      Deno.exitCode = await runSocks5(options);
    }) as unknown as Command;
}

/** Parsed flags of `socks5`. */
export interface Socks5Options {
  listen: string;
  user?: string;
  password?: string;
  connectTimeout: string;
  maxConnections: string;
  resolve: string[];
  resolveOnly?: boolean;
  logLevel: typeof LOG_LEVELS[number];
  logFormat: typeof LOG_FORMATS[number];
}

/** Runs the relay until SIGINT or SIGTERM and returns the exit code. */
export async function runSocks5(options: Socks5Options): Promise<number> {
  await setUpLogging({ level: options.logLevel, format: options.logFormat });
  const logger = getLogger(["trustwatch", "socks5"]);

  let settings: Parameters<typeof startSocks5Server>[0];
  try {
    settings = settingsFrom(options);
  } catch (error) {
    console.error(`trustwatch socks5: ${(error as Error).message}`);
    return EXIT_CODES.error;
  }

  let server: Awaited<ReturnType<typeof startSocks5Server>>;
  try {
    server = await startSocks5Server({ ...settings, logger });
  } catch (error) {
    console.error(
      `trustwatch socks5: cannot listen on ${options.listen}: ${(error as Error).message}`,
    );
    return EXIT_CODES.error;
  }

  const signal = await waitForStopSignal();
  logger.info("received {signal}, stopping", { signal });
  await server.close();
  return 0;
}

function settingsFrom(options: Socks5Options): Parameters<typeof startSocks5Server>[0] {
  const { hostname, port } = parseListenAddress(options.listen);
  if ((options.user === undefined) !== (options.password === undefined)) {
    throw new Error(
      `--user and --password (or ${SOCKS5_USER_ENV} and ${SOCKS5_PASSWORD_ENV}) must be set together`,
    );
  }
  const maxConnections = Number(options.maxConnections);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new Error(
      `invalid --max-connections "${options.maxConnections}": expected a whole number of 1 or more`,
    );
  }
  let connectTimeoutMs: number;
  try {
    connectTimeoutMs = parseDuration(options.connectTimeout);
  } catch (error) {
    throw new Error(`--connect-timeout: ${(error as Error).message}`);
  }
  const problem = timerDurationProblem(connectTimeoutMs);
  if (problem) throw new Error(`invalid --connect-timeout "${options.connectTimeout}": ${problem}`);

  return {
    hostname,
    port,
    credentials: options.user !== undefined
      ? { username: options.user, password: options.password ?? "" }
      : undefined,
    connectTimeoutMs,
    maxConnections,
    resolve: new ResolveMap(options.resolve.map(parseResolveEntry)),
    resolveOnly: options.resolveOnly ?? false,
  };
}

/**
 * Parses `:PORT`, `HOST:PORT` or `[IPv6]:PORT`. `:PORT` listens on every interface.
 *
 * @throws {Error} naming the value and the expected form.
 */
export function parseListenAddress(value: string): { hostname?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new Error(
      `invalid --listen "${value}": expected :PORT, HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:1080`,
    );
  }
  const hostname = match[1] ?? match[2];
  return { hostname: hostname === "" ? undefined : hostname, port };
}

function waitForStopSignal(): Promise<Deno.Signal> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((other, index) => Deno.removeSignalListener(other, handlers[index]));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}
