/**
 * `trustwatch validate`: checks config files offline, with the same strict parser `now` and
 * `serve` use, and exits 0 when all are valid or 1 when any is not.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { loadConfigFile } from "../core/config.ts";

/** Builds the `validate` command. */
export function validateCommand(): Command {
  return new Command("validate")
    .description("Check config files without contacting a cluster; exit 0 if valid, 1 if not")
    .argument("<files...>", "config files (YAML) to check")
    .addHelpText(
      "after",
      `
Every error names the file, line and key path, e.g.
  trustwatch.yaml:4: external[0].url: "status.example.com" is not a URL; expected e.g. https://host:port`,
    )
    .action(async (files) => {
      Deno.exitCode = await runValidate(files);
    }) as unknown as Command;
}

/** Validates each file, prints one line per file, and returns 0 when all are valid, else 1. */
export async function runValidate(files: string[]): Promise<number> {
  let invalid = 0;
  for (const file of files) {
    try {
      await loadConfigFile(file);
      console.log(`${file}: valid`);
    } catch (error) {
      invalid++;
      console.error(`trustwatch: ${(error as Error).message}`);
    }
  }
  return invalid === 0 ? 0 : 1;
}
