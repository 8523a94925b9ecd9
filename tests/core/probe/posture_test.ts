import assert from "node:assert/strict";
import { assessPosture } from "../../../core/probe/posture.ts";

Deno.test("assessPosture accepts TLS 1.2 and 1.3 with AEAD suites", () => {
  assert.deepEqual(assessPosture("TLSv1.3", "TLS_AES_128_GCM_SHA256"), []);
  assert.deepEqual(assessPosture("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), []);
  assert.deepEqual(assessPosture("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), []);
  assert.deepEqual(assessPosture(undefined, undefined), []);
});

Deno.test("assessPosture flags TLS 1.0, 1.1 and SSL 3.0", () => {
  assert.deepEqual(assessPosture("TLSv1", "TLS_RSA_WITH_AES_128_CBC_SHA"), [
    "server negotiated TLS 1.0, which is deprecated (RFC 8996)",
  ]);
  assert.deepEqual(assessPosture("TLSv1.1"), [
    "server negotiated TLS 1.1, which is deprecated (RFC 8996)",
  ]);
  assert.deepEqual(assessPosture("SSLv3"), [
    "server negotiated SSL 3.0, which is prohibited (RFC 7568)",
  ]);
});

Deno.test("assessPosture flags RC4, 3DES, NULL and export suites", () => {
  const cases: Array<[string, RegExp]> = [
    ["TLS_RSA_WITH_RC4_128_SHA", /RC4 is prohibited \(RFC 7465\)/],
    ["TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", /Sweet32/],
    ["TLS_RSA_WITH_NULL_SHA256", /does not encrypt traffic/],
    ["TLS_RSA_EXPORT_WITH_RC4_40_MD5", /export-grade/],
    ["TLS_RSA_WITH_DES_CBC_SHA", /single DES/],
  ];

  for (const [suite, pattern] of cases) {
    const issues = assessPosture("TLSv1.2", suite);
    assert.equal(issues.length, 1, `${suite}: ${JSON.stringify(issues)}`);
    assert.match(issues[0], pattern);
    assert.ok(issues[0].includes(suite), issues[0]);
  }
});

Deno.test("assessPosture lists version and cipher issues together", () => {
  assert.deepEqual(assessPosture("TLSv1", "TLS_RSA_WITH_RC4_128_MD5"), [
    "server negotiated TLS 1.0, which is deprecated (RFC 8996)",
    "server negotiated cipher suite TLS_RSA_WITH_RC4_128_MD5, and RC4 is prohibited (RFC 7465)",
  ]);
});
