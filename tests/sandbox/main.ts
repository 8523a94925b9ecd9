/**
 * Runs the sandbox cluster until SIGINT or SIGTERM.
 *
 * ```sh
 * deno task sandbox --manifests DIR [--manifests DIR]... [--forbid NAMESPACE]... [--demo]
 * ```
 *
 * Prints the kubeconfig path and the `curl --resolve` entries of the TLS backends on stdout and
 * logs every API request at debug level on stderr.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { configure, getLogger, getStreamSink } from "@logtape/logtape";
import { demoFixtures } from "./fixtures.ts";
import { startSandbox } from "./server.ts";

const USAGE = `Usage: deno task sandbox [options]

Starts a fake Kubernetes API server on 127.0.0.1 and runs until interrupted.

Options:
  --manifests PATH       YAML file or directory to load (repeatable)
  --demo                 also load the generated demo cluster
  --forbid NAMESPACE     deny the token access to NAMESPACE (repeatable)
  --forbid-namespace-list  deny listing namespaces
  --token TOKEN          bearer token to require (default: random)
  --latency-ms MS        delay added to every API response, in milliseconds (default: 0)
  --dir DIR              directory for the kubeconfig (default: a new temporary directory)
  -h, --help             show this help
`;

const logger = getLogger(["trustwatch", "sandbox"]);

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      manifests: { type: "string", multiple: true, default: [] },
      demo: { type: "boolean", default: false },
      forbid: { type: "string", multiple: true, default: [] },
      "forbid-namespace-list": { type: "boolean", default: false },
      token: { type: "string" },
      "latency-ms": { type: "string", default: "0" },
      dir: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  const latencyMs = Number(values["latency-ms"]);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    console.error(`invalid --latency-ms ${values["latency-ms"]}: expected milliseconds >= 0`);
    return 2;
  }

  await configureLogging();
  const demo = values.demo ? await demoFixtures() : undefined;
  const sandbox = await startSandbox({
    manifests: values.manifests,
    objects: demo?.objects,
    token: values.token,
    forbiddenNamespaces: values.forbid,
    forbidNamespaceList: values["forbid-namespace-list"],
    latencyMs,
    dir: values.dir,
  });

  console.log(`kubeconfig: ${sandbox.kubeconfigPath}`);
  console.log(`server: ${sandbox.url}`);
  for (const entry of sandbox.resolveEntries) console.log(`resolve: ${entry}`);
  if (demo) console.log(`external: ${demo.external.url}`);

  const signal = await waitForStopSignal();
  logger.info("received {signal}, stopping", { signal });
  await sandbox.close();
  return 0;
}

async function configureLogging(): Promise<void> {
  await configure({
    sinks: { stderr: getStreamSink(Deno.stderr.writable) },
    loggers: [
      { category: ["trustwatch"], lowestLevel: "debug", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function waitForStopSignal(): Promise<Deno.Signal> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [index, other] of signals.entries()) {
          Deno.removeSignalListener(other, handlers[index]);
        }
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`sandbox: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exitCode = 1;
  }
}
