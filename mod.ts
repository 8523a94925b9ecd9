/**
 * trustwatch: finds the certificates a Kubernetes cluster depends on and reports the ones that
 * are a problem. This is the entry point `deno compile` builds.
 *
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  await main(Deno.args);
}
