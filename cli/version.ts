/**
 * `trustwatch version`.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { VERSION } from "../core/version.ts";

/** Builds the `version` command, which prints the version, Deno and platform. */
export function versionCommand(): Command {
  return new Command("version")
    .description("Print the trustwatch version")
    .action(() => {
      console.log(
        `trustwatch ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch})`,
      );
    }) as unknown as Command;
}
