/**
 * The command tree. Invoked as `trustwatch` or, as a kubectl plugin, `kubectl trustwatch`.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { EXIT_CODES } from "../core/model.ts";
import { VERSION } from "../core/version.ts";
import { completionCommand } from "./completion.ts";
import { nowCommand } from "./now.ts";
import { rulesCommand } from "./rules.ts";
import { serveCommand } from "./serve.ts";
import { socks5Command } from "./socks5.ts";
import { validateCommand } from "./validate.ts";
import { versionCommand } from "./version.ts";

/** Builds the root command with every subcommand. */
export function buildProgram(): Command {
  const invokedAsPlugin = /kubectl-trustwatch(\.exe)?$/.test(Deno.execPath()) ||
    Deno.env.get("KUBECTL_PLUGINS_CALLER") !== undefined;
  const program = new Command(invokedAsPlugin ? "kubectl trustwatch" : "trustwatch")
    .description(
      "Find the certificates a Kubernetes cluster depends on and report the ones that are a problem.\n" +
        "Run as trustwatch or, installed as kubectl-trustwatch on PATH, as kubectl trustwatch.",
    )
    .version(VERSION, "-v, --version", "print the version")
    .showHelpAfterError();
  program.addCommand(nowCommand());
  program.addCommand(serveCommand());
  program.addCommand(rulesCommand());
  program.addCommand(validateCommand());
  program.addCommand(socks5Command());
  program.addCommand(versionCommand());
  program.addCommand(completionCommand(() => program as unknown as Command));
  return program as unknown as Command;
}

/** Parses arguments and runs the chosen command; sets `Deno.exitCode`. */
export async function main(args: string[]): Promise<void> {
  const program = buildProgram();
  exitWithErrorCodeOnUsageErrors(program);
  await program.parseAsync(args, { from: "user" });
}

/**
 * Makes a usage error of `command` or of any command below it (unknown option or command, missing
 * or extra argument, invalid choice) exit 3, which is an error rather than the warnings exit 1
 * means. `--help` and `--version` still exit 0. Commander keeps this handler per command and
 * `addCommand` does not copy it, so each command of the tree gets its own.
 */
function exitWithErrorCodeOnUsageErrors(command: Command): void {
  command.exitOverride((error) => {
    Deno.exit(error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.error);
  });
  for (const subcommand of command.commands) {
    exitWithErrorCodeOnUsageErrors(subcommand as unknown as Command);
  }
}
