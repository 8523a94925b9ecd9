/**
 * `deno task demo`: starts the sandbox cluster with the demo fixtures (healthy and broken
 * webhooks, an APIService, expiring and expired Secrets, an Ingress with a missing Secret, an
 * external endpoint) and runs `trustwatch now` against it, exiting with its exit code.
 *
 * Extra arguments go to `now`, e.g. `deno task demo -o json`.
 *
 * @module
 */
import { main } from "../../cli/main.ts";
import { startDemoCluster } from "./demo_cluster.ts";

const demo = await startDemoCluster();
const args = ["now", ...demo.flags, ...Deno.args];
console.error(`sandbox cluster at ${demo.sandbox.url}; running:\n  trustwatch ${args.join(" ")}\n`);
try {
  await main(args);
} finally {
  await demo.close();
}
Deno.exit(Deno.exitCode);
