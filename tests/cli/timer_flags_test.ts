import assert from "node:assert/strict";
import { type ScanFlags, scanSettingsFrom } from "../../cli/scan_flags.ts";
import { type ServeOptions, serveSettingsFrom } from "../../cli/serve.ts";
import { defaultConfig } from "../../core/config.ts";
import { runTrustwatch } from "../support/cli.ts";

const HOUR_MS = 3_600_000;

function scanFlags(overrides: Partial<ScanFlags> = {}): ScanFlags {
  return {
    namespace: [],
    scanTimeout: "120s",
    probeTimeout: "10s",
    probeConcurrency: "16",
    resolve: [],
    ...overrides,
  };
}

Deno.test("scanSettingsFrom rejects timeouts out of timer range", () => {
  const cases: [Partial<ScanFlags>, string][] = [
    [{ probeTimeout: "0s" }, 'invalid --probe-timeout "0s": expected more than 0 and at most 24h'],
    [
      { probeTimeout: "600h" },
      'invalid --probe-timeout "600h": expected more than 0 and at most 24h',
    ],
    [{ scanTimeout: "0" }, 'invalid --scan-timeout "0": expected more than 0 and at most 24h'],
    [
      { scanTimeout: "597h" },
      'invalid --scan-timeout "597h": expected more than 0 and at most 24h',
    ],
  ];
  for (const [flags, expected] of cases) {
    assert.throws(
      () => scanSettingsFrom(scanFlags(flags), defaultConfig()),
      (error: Error) => error.message === expected,
      `expected ${JSON.stringify(expected)}`,
    );
  }
});

Deno.test("scanSettingsFrom accepts one-day timeouts and long thresholds", () => {
  const settings = scanSettingsFrom(
    scanFlags({
      scanTimeout: "24h",
      probeTimeout: "1ms",
      warnBefore: "8760h",
      critBefore: "2000h",
    }),
    defaultConfig(),
  );
  assert.equal(settings.scanTimeoutMs, 24 * HOUR_MS);
  assert.equal(settings.probe.timeoutMs, 1);
  assert.deepEqual(settings.thresholds, {
    warnBeforeMs: 8760 * HOUR_MS,
    critBeforeMs: 2000 * HOUR_MS,
  });
});

Deno.test("serve --refresh-every above one day is rejected", async () => {
  const options: ServeOptions = {
    ...scanFlags(),
    namespace: [],
    logLevel: "info",
    logFormat: "text",
    refreshEvery: "1000h",
  };
  await assert.rejects(
    serveSettingsFrom(options),
    (error: Error) =>
      error.message === 'invalid --refresh-every "1000h": expected more than 0 and at most 24h',
  );

  const settings = await serveSettingsFrom({ ...options, refreshEvery: "24h" });
  assert.equal(settings.refreshEveryMs, 24 * HOUR_MS);
});

Deno.test("socks5 --connect-timeout out of range exits 3", async () => {
  for (const value of ["0s", "1000h"]) {
    const run = await runTrustwatch([
      "socks5",
      "--listen",
      "127.0.0.1:0",
      "--connect-timeout",
      value,
    ]);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(
      run.stderr,
      `trustwatch socks5: invalid --connect-timeout "${value}": expected more than 0 and at most 24h\n`,
    );
  }
});

Deno.test("scanSettingsFrom validates namespace names", () => {
  assert.deepEqual(
    scanSettingsFrom(scanFlags({ namespace: ["payments", "kube-system"] }), defaultConfig())
      .namespaces,
    ["payments", "kube-system"],
  );
  assert.throws(
    () => scanSettingsFrom(scanFlags({ namespace: ["Bad_NS!"] }), defaultConfig()),
    /--namespace: "Bad_NS!" is not a valid namespace name/,
  );
  assert.throws(
    () => scanSettingsFrom(scanFlags({ namespace: [""] }), defaultConfig()),
    /--namespace: "" is not a valid namespace name/,
  );
  const config = { ...defaultConfig(), namespaces: ["ok", "Not OK"] };
  assert.throws(
    () => scanSettingsFrom(scanFlags(), config),
    /namespaces in --config: "Not OK" is not a valid namespace name/,
  );
});
