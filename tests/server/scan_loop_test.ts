import assert from "node:assert/strict";
import type { Snapshot } from "../../core/model.ts";
import { ScanLoop } from "../../server/scan_loop.ts";

function emptySnapshot(): Snapshot {
  return { at: new Date().toISOString(), errors: [], findings: [] };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

Deno.test("scan loop scans at start and then every interval", async () => {
  const starts: number[] = [];
  const loop = new ScanLoop({
    intervalMs: 50,
    scan: () => {
      starts.push(Date.now());
      return Promise.resolve(emptySnapshot());
    },
  });
  loop.start();
  try {
    await until(() => loop.status.scansCompleted >= 1, "the first scan");
    assert.equal(starts.length >= 1, true);
    await until(() => loop.status.scansCompleted >= 3, "three scans");
  } finally {
    await loop.stop();
  }
  for (let i = 1; i < starts.length; i++) {
    assert.ok(starts[i] - starts[i - 1] >= 45, `scan ${i} started early`);
  }
  assert.equal(loop.status.overruns, 0);
});

Deno.test("scan loop never overlaps and logs overruns", async () => {
  let running = 0;
  let maxRunning = 0;
  const loop = new ScanLoop({
    intervalMs: 20,
    scan: async (signal) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        await delay(100, signal);
        return emptySnapshot();
      } finally {
        running--;
      }
    },
  });
  loop.start();
  try {
    await until(() => loop.status.scansCompleted >= 3, "three scans");
  } finally {
    await loop.stop();
  }
  assert.equal(maxRunning, 1);
  assert.ok(loop.status.overruns >= 2, `overruns: ${loop.status.overruns}`);
});

Deno.test("scan loop stop ends the wait for the next scan", async () => {
  let calls = 0;
  const loop = new ScanLoop({
    intervalMs: 60_000,
    scan: async (signal) => {
      calls++;
      if (calls > 1) await delay(60_000, signal);
      return emptySnapshot();
    },
  });
  loop.start();
  await until(() => loop.status.scansCompleted === 1, "the first scan");
  const first = loop.status.snapshot;

  const stopped = Date.now();
  await loop.stop();
  assert.ok(Date.now() - stopped < 5_000, "stop waited for the interval");
  assert.equal(calls, 1, "no scan starts during the wait");
  assert.equal(loop.status.snapshot, first);
});

Deno.test("scan loop discards a scan cut short by stop", async () => {
  let sawAbort = false;
  const loop = new ScanLoop({
    intervalMs: 60_000,
    scan: async (signal) => {
      await delay(60_000, signal).catch(() => {
        sawAbort = true;
      });
      return emptySnapshot();
    },
  });
  loop.start();
  await until(() => loop.status.scanning, "the scan to start");
  await loop.stop();
  assert.equal(sawAbort, true);
  assert.equal(loop.status.snapshot, undefined);
  assert.equal(loop.status.scansCompleted, 0);
});

Deno.test("scan loop survives a failing scan", async () => {
  let calls = 0;
  const loop = new ScanLoop({
    intervalMs: 20,
    scan: () => {
      calls++;
      if (calls === 1) return Promise.reject(new Error("API server unreachable"));
      return Promise.resolve(emptySnapshot());
    },
  });
  loop.start();
  try {
    await until(() => loop.status.scansCompleted >= 1, "a scan after the failure");
  } finally {
    await loop.stop();
  }
  assert.ok(calls >= 2);
});

Deno.test("scan loop reports each snapshot with its timing", async () => {
  let clock = 1_000_000;
  const reported: { durationMs: number; completedAtMs: number }[] = [];
  const loop = new ScanLoop({
    intervalMs: 60_000,
    now: () => clock,
    scan: () => {
      clock += 2_500;
      return Promise.resolve(emptySnapshot());
    },
    onSnapshot: (_snapshot, timing) => reported.push(timing),
  });
  loop.start();
  await until(() => reported.length === 1, "the first report");
  await loop.stop();
  assert.deepEqual(reported, [{ durationMs: 2_500, completedAtMs: 1_002_500 }]);
  assert.equal(loop.status.lastCompletedAtMs, 1_002_500);
});
