import assert from "node:assert/strict";
import { type Config, defaultConfig } from "../../core/config.ts";
import { connectToCluster } from "../../core/kube/client.ts";
import { ExternalDiscoverer } from "../../core/discovery/external.ts";
import { runScan } from "../../core/scan.ts";
import { namespace } from "../sandbox/fixtures.ts";
import { startSandbox } from "../sandbox/server.ts";

const HOUR_MS = 3_600_000;

Deno.test("scan with an already aborted signal stops at once", async () => {
  const sandbox = await startSandbox({ objects: [namespace("payments")], latencyMs: 1_000 });
  try {
    const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
    const interrupt = new AbortController();
    interrupt.abort(new Error("scan interrupted"));

    const snapshot = await runScan({
      kube,
      config: defaultConfig(),
      thresholds: { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS },
      scanTimeoutMs: 60_000,
      probe: { resolveOnly: true },
      signal: interrupt.signal,
    });

    assert.ok(snapshot.errors.length > 0, "every discoverer records the interruption");
    for (const error of snapshot.errors) {
      assert.equal(error.message, "scan interrupted before discovery finished");
    }
    assert.deepEqual(snapshot.findings, []);
  } finally {
    await sandbox.close();
  }
});

/**
 * Starts a loopback listener that accepts connections and never sends a byte, so a TLS probe of it
 * stays in flight until its own timeout or a cancellation.
 */
function startSilentListener(): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const connection of listener) connections.push(connection);
    } catch {
      // The listener was closed.
    }
  })();
  return {
    port: listener.addr.port,
    close: () => {
      listener.close();
      for (const connection of connections) {
        try {
          connection.close();
        } catch {
          // Already closed by the prober.
        }
      }
    },
  };
}

function externalConfig(ports: number[]): Config {
  return {
    ...defaultConfig(),
    external: ports.map((port) => ({ url: `tcp://127.0.0.1:${port}` })),
  };
}

Deno.test("scan timeout drops cancelled probes and records an error", async () => {
  const silent = [startSilentListener(), startSilentListener()];
  try {
    const snapshot = await runScan({
      config: externalConfig(silent.map((listener) => listener.port)),
      thresholds: { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS },
      scanTimeoutMs: 1_000,
      probe: { timeoutMs: 600_000, resolveOnly: true },
      discoverers: [new ExternalDiscoverer()],
    });

    assert.deepEqual(snapshot.findings, [], "a cancelled probe is not a PROBE_FAILED finding");
    assert.deepEqual(snapshot.errors, [{
      source: "external",
      message: "scan timed out after 1s (--scan-timeout) with 2 probes still running; " +
        "raise --scan-timeout or lower --probe-timeout",
    }]);
  } finally {
    for (const listener of silent) listener.close();
  }
});

Deno.test("scan interrupted while probing reports no findings", async () => {
  const silent = startSilentListener();
  const interrupt = new AbortController();
  try {
    const scan = runScan({
      config: externalConfig([silent.port]),
      thresholds: { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS },
      scanTimeoutMs: 600_000,
      probe: { timeoutMs: 600_000, resolveOnly: true },
      discoverers: [new ExternalDiscoverer()],
      signal: interrupt.signal,
      onProgress: (event) => {
        if (event.phase === "done") interrupt.abort(new Error("scan interrupted"));
      },
    });
    const snapshot = await scan;

    assert.deepEqual(snapshot.findings, []);
    assert.deepEqual(snapshot.errors, [{
      source: "external",
      message: "scan interrupted with 1 probe still running",
    }]);
  } finally {
    silent.close();
  }
});

Deno.test("scan rejects a timeout a timer cannot hold", async () => {
  for (const scanTimeoutMs of [0, 597 * HOUR_MS]) {
    await assert.rejects(
      runScan({
        config: defaultConfig(),
        thresholds: { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS },
        scanTimeoutMs,
        discoverers: [],
      }),
      RangeError,
    );
  }
});
