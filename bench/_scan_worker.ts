/**
 * Benchmark worker: one full trustwatch scan (every default discoverer, the prober with the TLS
 * version scan, analysis and classification) of the benchmark cluster, run in its own process so its peak RSS is its
 * own. Prints a {@linkcode WorkerResult} as JSON.
 *
 * @module
 */
import { defaultConfig } from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import { connectToCluster } from "../core/kube/client.ts";
import { parseResolveEntry, ResolveMap } from "../core/probe/resolve.ts";
import { runScan } from "../core/scan.ts";
import { peakRssBytes, type WorkerParameters, type WorkerResult } from "./_peak_rss.ts";

const parameters: WorkerParameters = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const config = defaultConfig();
const kube = await connectToCluster({ kubeconfig: parameters.kubeconfigPath });
const snapshot = await runScan({
  kube,
  config,
  thresholds: {
    warnBeforeMs: parseDuration(config.warnBefore),
    critBeforeMs: parseDuration(config.critBefore),
  },
  scanTimeoutMs: 600_000,
  probe: {
    concurrency: parameters.concurrency,
    resolve: new ResolveMap(parameters.resolveEntries.map(parseResolveEntry)),
    resolveOnly: true,
    // As `now` does: one extra short handshake per deprecated TLS version and endpoint.
    scanLegacyVersions: true,
  },
});

const result: WorkerResult = {
  wallMs: performance.now(),
  peakRssBytes: peakRssBytes(),
  counts: {
    findings: snapshot.findings.length,
    probed: snapshot.findings.filter((finding) => finding.sni !== undefined && finding.probeOk)
      .length,
    errors: snapshot.errors.length,
  },
};
if (snapshot.errors.length > 0) console.error(JSON.stringify(snapshot.errors));
console.log(JSON.stringify(result));
