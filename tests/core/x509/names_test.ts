import assert from "node:assert/strict";
import { coversName } from "../../../core/x509/names.ts";
import { certificateFactsFromDer } from "../../../core/x509/certificate.ts";
import { issueCertificate } from "../../support/pki.ts";

Deno.test("coversName table of DNS names and IP addresses", async () => {
  const issued = await issueCertificate({
    commonName: "cn-only.example.net",
    dnsNames: ["webhook.payments.svc", "*.Example.com", "trailing.example.org."],
    ipAddresses: ["10.0.0.7", "2001:db8::1"],
  });
  const certificate = certificateFactsFromDer(issued.der);
  const cases: [string, boolean][] = [
    ["webhook.payments.svc", true],
    ["WEBHOOK.Payments.SVC", true],
    ["webhook.payments.svc.", true],
    ["webhook.payments", false],
    ["other.payments.svc", false],
    ["a.example.com", true],
    ["A.EXAMPLE.COM.", true],
    ["a.b.example.com", false],
    ["example.com", false],
    [".example.com", false],
    ["trailing.example.org", true],
    ["cn-only.example.net", false],
    ["10.0.0.7", true],
    ["10.0.0.8", false],
    ["2001:db8::1", true],
    ["2001:DB8:0:0:0:0:0:1", true],
    ["[2001:db8::1]", true],
    ["2001:db8::2", false],
    ["", false],
  ];

  const results = cases.map(([name]) => [name, coversName(certificate, name)]);

  assert.deepEqual(results, cases);
});

Deno.test("coversName ignores CN when there are no SANs", async () => {
  const issued = await issueCertificate({ commonName: "legacy.example.com" });

  assert.equal(coversName(certificateFactsFromDer(issued.der), "legacy.example.com"), false);
});

Deno.test("coversName does not match IP names against DNS SANs", async () => {
  const issued = await issueCertificate({ commonName: "ip", dnsNames: ["10.0.0.9"] });

  assert.equal(coversName(certificateFactsFromDer(issued.der), "10.0.0.9"), false);
});
