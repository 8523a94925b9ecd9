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
import { demoFixtures } from "./fixtures.ts";
import { startSandbox } from "./server.ts";

const { objects, external } = await demoFixtures();
const sandbox = await startSandbox({ objects });
const configPath = `${await Deno.makeTempDir({ prefix: "trustwatch-demo-" })}/trustwatch.yaml`;
await Deno.writeTextFile(configPath, `external:\n  - url: ${external.url}\n`);

const args = [
  "now",
  "--kubeconfig",
  sandbox.kubeconfigPath,
  "--config",
  configPath,
  "--resolve-only",
  ...sandbox.resolveEntries.flatMap((entry) => ["--resolve", entry]),
  ...Deno.args,
];
console.error(`sandbox cluster at ${sandbox.url}; running:\n  trustwatch ${args.join(" ")}\n`);
try {
  await main(args);
} finally {
  await sandbox.close();
  await Deno.remove(configPath.replace(/\/[^/]+$/, ""), { recursive: true });
}
Deno.exit(Deno.exitCode);
