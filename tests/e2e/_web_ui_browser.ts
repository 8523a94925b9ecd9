/**
 * Browser tests of the web UI with playwright-core and Debian's chromium: the page lists the
 * sandbox's problems, filters work without a reload, the detail panel opens, and a certificate
 * subject carrying HTML renders as text and runs nothing.
 *
 * web_ui_test.ts runs this file in a `deno test --allow-all` subprocess, because playwright-core
 * reads /proc/sys/fs/binfmt_misc when it loads, which Deno 2.9 allows only with --allow-all.
 */
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { Snapshot } from "../../core/model.ts";
import { daysFromNow, issueCertificate } from "../support/pki.ts";
import { namespace, tlsSecret } from "../sandbox/fixtures.ts";
import { startDemoCluster, startServe, waitFor } from "../server/_serve_process.ts";

const CHROMIUM = "/usr/bin/chromium";
const chromiumMissing = !(await Deno.stat(CHROMIUM).then(() => true).catch(() => false));
if (chromiumMissing) {
  console.log(`skipping web UI tests: ${CHROMIUM} not found (install Debian's chromium package)`);
}
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const XSS_SUBJECT = "<img src=x onerror=alert(1)>";

async function rowTexts(page: Page): Promise<string[]> {
  return await page.locator("#findings tbody tr td.where").allTextContents();
}

async function rowSeverities(page: Page): Promise<string[]> {
  return await page.locator("#findings tbody tr td.severity").allTextContents();
}

Deno.test({
  name: "web UI lists problems, filters, and escapes certificates",
  ignore: chromiumMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const xss = await issueCertificate({
      commonName: XSS_SUBJECT,
      notBefore: daysFromNow(-30),
      notAfter: daysFromNow(-2),
    });
    const cluster = await startDemoCluster({
      extraObjects: [
        namespace("attacker"),
        tlsSecret({ namespace: "attacker", name: "xss-tls", certPem: xss.certPem }),
      ],
    });
    const serve = await startServe(cluster.args);
    const profileDir = await Deno.makeTempDir({ prefix: "trustwatch-chromium-" });
    const screenshotDir = await Deno.makeTempDir({ prefix: "trustwatch-ui-test-" });
    let context: BrowserContext | undefined;
    try {
      await waitFor("the first scan", async () => {
        const response = await fetch(`${serve.url}/readyz`);
        await response.body?.cancel();
        return response.status === 200 ? true : undefined;
      });
      const problems = (await (await fetch(`${serve.url}/api/v1/snapshot?severity=critical,warn`))
        .json()) as Snapshot;
      const xssFinding = problems.findings.find((finding) => finding.name === "xss-tls");
      // RFC 4514 escapes < and > with a backslash; the tag itself stays in the subject.
      const xssSubject = xssFinding?.subject ?? "";
      assert.ok(xssSubject.includes("<img src=x onerror=alert(1)"), xssSubject);

      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
      });
      const blocked: string[] = [];
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1") return route.continue();
        blocked.push(url.href);
        return route.abort();
      });
      const page = context.pages()[0] ?? await context.newPage();
      const dialogs: string[] = [];
      const pageErrors: string[] = [];
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        dialog.dismiss().catch(() => {});
      });
      page.on("pageerror", (error) => pageErrors.push(error.message));

      await page.goto(serve.url);
      await page.locator("#findings tbody tr").first().waitFor();

      // Problems only, most severe first, exactly those of the API.
      const expectedWhere = problems.findings.map((finding) =>
        finding.namespace ? `${finding.namespace}/${finding.name}` : finding.name ?? ""
      );
      assert.deepEqual((await rowTexts(page)).sort(), [...expectedWhere].sort());
      const severities = await rowSeverities(page);
      assert.ok(severities.every((severity) => severity === "critical" || severity === "warn"));
      const lastCritical = severities.lastIndexOf("critical");
      const firstWarn = severities.indexOf("warn");
      assert.ok(firstWarn === -1 || lastCritical < firstWarn, "critical rows come first");
      assert.match(await page.locator("#counts").textContent() ?? "", /4 critical/);

      // The certificate subject is text: no element is created and no script runs.
      const xssRow = page.locator("#findings tbody tr", { hasText: "attacker/xss-tls" });
      await xssRow.click();
      await page.locator("#detail").waitFor({ state: "visible" });
      assert.equal(
        await page.locator('#detail dd[data-field="subject"]').textContent(),
        xssSubject,
      );
      assert.equal(await page.locator("img").count(), 0);
      assert.equal(
        await page.locator("#detail-title").textContent(),
        "critical · attacker/xss-tls",
      );
      await page.locator("#detail-close").click();
      assert.equal(await page.locator("#detail").isHidden(), true);

      // Severity filter.
      await page.locator("#filter-warn").uncheck();
      assert.ok((await rowSeverities(page)).every((severity) => severity === "critical"));
      assert.equal((await rowSeverities(page)).length, 4);
      await page.locator("#filter-warn").check();

      // Source and namespace filters.
      await page.locator("#filter-source").selectOption("k8s.tlsSecret");
      await page.locator("#filter-namespace").selectOption("payments");
      assert.deepEqual((await rowTexts(page)).sort(), [
        "payments/checkout-tls",
        "payments/ledger-tls",
      ]);
      await page.locator("#filter-source").selectOption("");
      await page.locator("#filter-namespace").selectOption("");

      // Free text, and healthy inventory once info is shown.
      await page.locator("#filter-text").fill("ledger");
      assert.deepEqual(await rowTexts(page), ["payments/ledger-tls"]);
      await page.locator("#filter-text").fill("api.payments.example.com");
      assert.deepEqual(await rowTexts(page), []);
      await page.locator("#filter-info").check();
      assert.deepEqual((await rowTexts(page)).sort(), ["payments/api", "payments/api-tls"]);
      await page.locator("#filter-text").fill("");
      await page.locator("#filter-info").uncheck();

      // Detail panel with every contract field, relative and exact expiry.
      await page.locator("#findings tbody tr", { hasText: "payments/ledger-tls" }).click();
      const fields = await page.locator("#detail dt").allTextContents();
      for (
        const field of [
          "source",
          "severity",
          "probeOk",
          "notAfter",
          "subject",
          "issuer",
          "serial",
          "dnsNames",
          "remediation",
        ]
      ) {
        assert.ok(fields.includes(field), `detail lists ${field}`);
      }
      assert.equal(
        await page.locator('#detail dd[data-field="findingType"]').textContent(),
        "EXPIRING",
      );
      assert.match(
        await page.locator('#detail dd[data-field="notAfter"]').textContent() ?? "",
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in [67]d\)$/,
      );
      const expiresCell = page.locator("#findings tbody tr", { hasText: "payments/ledger-tls" })
        .locator("td.expires");
      assert.match(await expiresCell.locator(".relative").textContent() ?? "", /^in [67]d$/);
      assert.match(
        await expiresCell.locator(".exact").textContent() ?? "",
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
      );

      const screenshot = `${screenshotDir}/trustwatch-ui.png`;
      await page.screenshot({ path: screenshot, fullPage: true });
      assert.ok((await Deno.stat(screenshot)).size > 0);
      console.log(`web UI screenshot: ${screenshot}`);

      assert.deepEqual(dialogs, [], "a dialog opened: script from a certificate ran");
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(blocked, [], "the page requested another host");
    } finally {
      await context?.close();
      await serve.stop();
      await cluster.close();
      await Deno.remove(profileDir, { recursive: true }).catch(() => {});
    }
  },
});
