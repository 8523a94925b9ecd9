/**
 * Repeatable flags (`-n a -n b`), collected into a list.
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";

/** Appends one occurrence of a repeatable flag to the values collected so far. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Returns an option that may be given several times; its value is the list of all occurrences,
 * empty when absent. `whenAbsent` is shown in help as the default, e.g. "all namespaces".
 */
export function repeatableOption<Flags extends string>(
  flags: Flags,
  description: string,
  whenAbsent: string,
) {
  return new Option(flags, description).argParser(collect).default([] as string[], whenAbsent);
}
