import assert from "node:assert/strict";
import { CSV_COLUMNS, quoteField, renderCsv } from "../../cli/output/csv.ts";
import { renderTable } from "../../cli/output/table.ts";
import type { Finding, Snapshot } from "../../core/model.ts";
import { resolveFlags, runTrustwatch } from "../support/cli.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { demoFixtures, namespace, tlsSecret } from "../sandbox/fixtures.ts";
import { type Sandbox, startSandbox } from "../sandbox/server.ts";

/** Secret names a strict CSV reader must get back unchanged; the sandbox does not validate them. */
const AWKWARD_NAMES = [
  "comma,separated",
  'say "hello"',
  "two\nlines",
  'all, "three"\r\nat once',
];

interface JsonOutput {
  snapshot: Snapshot;
  exitCode: number;
}

async function withAwkwardSandbox(run: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const expiring = await issueCertificate({
    commonName: "awkward.example.com",
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(5),
  });
  const objects = AWKWARD_NAMES.map((name) =>
    tlsSecret({ namespace: "odd,ns", name, certPem: expiring.certPem })
  );
  const sandbox = await startSandbox({ objects });
  try {
    await run(sandbox);
  } finally {
    await sandbox.close();
  }
}

/** Parses CSV with Python's csv module (strict mode) and returns the rows as JSON. */
async function parseWithPython(csv: string): Promise<string[][]> {
  const script = "import csv, json, sys\n" +
    "rows = list(csv.reader(sys.stdin, strict=True))\n" +
    "json.dump(rows, sys.stdout)\n";
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(csv));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

function pythonAvailable(): boolean {
  try {
    return new Deno.Command("python3", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    console.log("skipped: python3 is not installed");
    return false;
  }
}

function csvRow(finding: Finding): string[] {
  return CSV_COLUMNS.map((column) => {
    const value = finding[column];
    return value === undefined ? "" : String(value);
  });
}

Deno.test({
  name: "csv reads back in Python with awkward names",
  ignore: !pythonAvailable(),
  fn: () =>
    withAwkwardSandbox(async (sandbox) => {
      const args = ["now", "--kubeconfig", sandbox.kubeconfigPath, "--resolve-only"];
      const csv = await runTrustwatch([...args, "-o", "csv"]);
      const json = await runTrustwatch([...args, "-o", "json"]);
      assert.equal(csv.code, 2, csv.stderr);
      assert.equal(json.code, 2, json.stderr);
      assert.ok(csv.stdout.endsWith("\r\n"), "records end with CRLF");

      const rows = await parseWithPython(csv.stdout);
      assert.deepEqual(rows[0], [...CSV_COLUMNS]);
      const findings = (JSON.parse(json.stdout) as JsonOutput).snapshot.findings;
      const expected = findings.map(csvRow).sort();
      assert.deepEqual(rows.slice(1).sort(), expected);

      const names = rows.slice(1).filter((row) => row[1] === "odd,ns").map((row) => row[0]);
      assert.deepEqual(names.sort(), [...AWKWARD_NAMES].sort());
      const quoted = rows.find((row) => row[0] === 'say "hello"')!;
      assert.equal(quoted[3], "critical");
      assert.equal(quoted[7], "EXPIRING");
      assert.match(quoted[8], /Secret odd,ns\/say "hello"/);
      assert.equal(quoted[9], "true");
    }),
});

Deno.test("csv quotes only fields that need it", () => {
  assert.equal(quoteField("plain"), "plain");
  assert.equal(quoteField(""), "");
  assert.equal(quoteField("a,b"), '"a,b"');
  assert.equal(quoteField('say "hi"'), '"say ""hi"""');
  assert.equal(quoteField("line\nbreak"), '"line\nbreak"');
  assert.equal(quoteField("carriage\rreturn"), '"carriage\rreturn"');
});

Deno.test("csv has a header and one row per finding", () => {
  const snapshot: Snapshot = {
    at: "2026-01-01T00:00:00Z",
    errors: [],
    findings: [{
      source: "k8s.tlsSecret",
      severity: "info",
      probeOk: true,
      notAfter: "2027-01-01T00:00:00Z",
      name: "api-tls",
      namespace: "payments",
      issuer: "CN=Example, O=Example Inc",
      serial: "0A1B",
    }],
  };
  assert.equal(
    renderCsv(snapshot),
    "name,namespace,source,severity,notAfter,issuer,serial,findingType,remediation,probeOk\r\n" +
      'api-tls,payments,k8s.tlsSecret,info,2027-01-01T00:00:00Z,"CN=Example, O=Example Inc",0A1B,,,true\r\n',
  );
});

Deno.test("csv prints scan errors on stderr", async () => {
  const sandbox = await startSandbox({
    objects: [namespace("team-a"), namespace("team-b")],
    forbiddenNamespaces: ["team-b"],
  });
  try {
    const run = await runTrustwatch(["now", "--kubeconfig", sandbox.kubeconfigPath, "-o", "csv"]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /^name,namespace,source,/);
    assert.match(run.stderr, /^trustwatch: k8s\.tlsSecret: .*team-b/m);
  } finally {
    await sandbox.close();
  }
});

Deno.test("wide table adds target, SNI and issuer", async () => {
  const { objects, external } = await demoFixtures();
  const sandbox = await startSandbox({ objects });
  const configPath = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(configPath, `external:\n  - url: ${external.url}\n`);
  try {
    const run = await runTrustwatch([
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--config",
      configPath,
      "--resolve-only",
      ...resolveFlags(sandbox.resolveEntries),
      "-o",
      "wide",
    ]);
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(
      lines[0],
      /^SEVERITY\s+SOURCE\s+WHERE\s+EXPIRES\s+FINDING\s+TARGET\s+SNI\s+ISSUER\s+DETAIL$/,
    );
    const webhook = lines.find((line) => line.includes("kyverno-resource-mutating"));
    assert.ok(webhook, run.stdout);
    assert.match(
      webhook,
      /kyverno-svc\.kyverno\.svc:\d+\s+kyverno-svc\.kyverno\.svc\s+CN=kyverno-svc CA/,
    );
    const secret = lines.find((line) => line.includes("grafana-tls"));
    assert.match(secret!, /tls\.crt\s+-\s+CN=payments issuer CA/);
  } finally {
    await sandbox.close();
    await Deno.remove(configPath);
  }
});

Deno.test("piped now prints a table and no progress", async () => {
  const sandbox = await startSandbox({});
  try {
    const run = await runTrustwatch(["now", "--kubeconfig", sandbox.kubeconfigPath]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^No certificate problems found/);
    assert.doesNotMatch(run.stderr, /scanning/);
  } finally {
    await sandbox.close();
  }
});

Deno.test("now -o tui without a terminal fails with a hint", async () => {
  const run = await runTrustwatch(["now", "--kubeconfig", "/nonexistent", "-o", "tui"]);
  assert.equal(run.code, 3);
  assert.match(run.stderr, /-o tui needs a terminal on stdin and stdout; use -o table/);
});

Deno.test("table summary counts in singular and plural", () => {
  const finding: Finding = {
    source: "k8s.tlsSecret",
    severity: "info",
    probeOk: true,
    notAfter: "2027-01-01T00:00:00Z",
    name: "api-tls",
    namespace: "payments",
  };
  const error = { source: "k8s.webhook" as const, message: "forbidden" };
  const summaryOf = (snapshot: Snapshot) =>
    renderTable(snapshot, new Date("2026-01-01T00:00:00Z")).trimEnd().split("\n").at(-1);

  assert.equal(
    summaryOf({ at: "2026-01-01T00:00:00Z", errors: [error], findings: [finding] }),
    "0 critical, 0 warn, 1 healthy, 1 error (1 certificate or object checked)",
  );
  assert.equal(
    summaryOf({ at: "2026-01-01T00:00:00Z", errors: [error, error], findings: [finding, finding] }),
    "0 critical, 0 warn, 2 healthy, 2 errors (2 certificates and objects checked)",
  );
  assert.equal(
    summaryOf({ at: "2026-01-01T00:00:00Z", errors: [], findings: [] }),
    "No certificate problems found: 0 critical, 0 warn, 0 healthy (0 certificates and objects checked)",
  );
});
