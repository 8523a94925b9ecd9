import assert from "node:assert/strict";
import { APP_SCRIPT, FINDING_FIELDS } from "../../server/ui/app_script.ts";
import { PAGE_HTML } from "../../server/ui/page.ts";
import { STYLESHEET } from "../../server/ui/stylesheet.ts";

Deno.test("UI script is valid JavaScript", () => {
  // Compiles the script without running it: a syntax error throws here.
  assert.doesNotThrow(() => new Function(APP_SCRIPT));
});

Deno.test("UI script never assigns markup", () => {
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]) {
    assert.ok(!APP_SCRIPT.includes(sink), `app.js uses ${sink}`);
  }
});

Deno.test("UI detail panel lists every contract field", () => {
  const contractFields = [
    "source",
    "severity",
    "probeOk",
    "notAfter",
    "name",
    "namespace",
    "cluster",
    "target",
    "sni",
    "subject",
    "issuer",
    "serial",
    "dnsNames",
    "issuerChain",
    "chainLen",
    "chainErrors",
    "postureIssues",
    "revocationIssues",
    "tlsVersion",
    "cipherSuite",
    "keyAlgorithm",
    "keySize",
    "signatureAlgorithm",
    "selfSigned",
    "isCA",
    "findingType",
    "policyName",
    "notes",
    "probeError",
    "remediation",
  ];
  assert.deepEqual([...FINDING_FIELDS].sort(), contractFields.sort());
});

Deno.test("UI assets fetch nothing from other origins", () => {
  for (const asset of [PAGE_HTML, APP_SCRIPT, STYLESHEET]) {
    assert.doesNotMatch(asset, /https?:\/\//);
    assert.doesNotMatch(asset, /@import|url\(/);
  }
});
