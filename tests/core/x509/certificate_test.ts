import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  type CertificateFacts,
  certificateFactsFromDer,
  CertificateParseError,
} from "../../../core/x509/certificate.ts";
import { parseCertificateBundle } from "../../../core/x509/bundle.ts";
import { daysFromNow, issueCertificate } from "../../support/pki.ts";

const REALDATA_PEM = "/work/shared/realdata/pem/";

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

async function sha256Hex(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function realCertificates(file: string): CertificateFacts[] {
  return parseCertificateBundle(Deno.readFileSync(REALDATA_PEM + file)).certificates;
}

Deno.test("certificateFactsFromDer reads an EC CA certificate", async () => {
  const notBefore = daysFromNow(-2);
  const notAfter = daysFromNow(30);
  const ca = await issueCertificate({
    commonName: "facts CA",
    isCA: true,
    notBefore,
    notAfter,
    serialHex: "0A1B2C",
  });

  const facts = certificateFactsFromDer(ca.der);

  assert.deepEqual(facts, {
    der: ca.der,
    subject: "CN=facts CA",
    issuer: "CN=facts CA",
    serial: "0A1B2C",
    notBefore: wholeSeconds(notBefore),
    notAfter: wholeSeconds(notAfter),
    dnsNames: [],
    ipAddresses: [],
    keyAlgorithm: "ECDSA",
    keySize: 256,
    signatureAlgorithm: "ECDSA-SHA256",
    selfSigned: true,
    isCA: true,
    fingerprintSha256: await sha256Hex(ca.der),
  });
});

Deno.test("certificateFactsFromDer reads an RSA 2048 leaf with DNS and IP SANs", async () => {
  const ca = await issueCertificate({ commonName: "facts RSA CA", isCA: true, keyType: "rsa2048" });
  const leaf = await issueCertificate({
    commonName: "webhook.payments.svc",
    dnsNames: ["webhook.payments.svc", "*.webhook.payments.svc"],
    ipAddresses: ["10.0.0.7", "2001:db8:0:0:0:0:0:1"],
    issuer: ca,
    keyType: "rsa2048",
  });

  const { der: _der, fingerprintSha256: _fingerprint, notBefore: _from, notAfter: _to, ...facts } =
    certificateFactsFromDer(leaf.der);

  assert.deepEqual(facts, {
    subject: "CN=webhook.payments.svc",
    issuer: "CN=facts RSA CA",
    serial: leaf.serialHex,
    dnsNames: ["webhook.payments.svc", "*.webhook.payments.svc"],
    ipAddresses: ["10.0.0.7", "2001:db8::1"],
    keyAlgorithm: "RSA",
    keySize: 2048,
    signatureAlgorithm: "SHA256-RSA",
    selfSigned: false,
    isCA: false,
  });
});

Deno.test("certificateFactsFromDer reports a 1024-bit RSA key", async () => {
  const weak = await issueCertificate({ commonName: "weak", keyType: "rsa1024" });

  const facts = certificateFactsFromDer(weak.der);

  assert.equal(facts.keyAlgorithm, "RSA");
  assert.equal(facts.keySize, 1024);
  assert.equal(facts.signatureAlgorithm, "SHA256-RSA");
  assert.equal(facts.selfSigned, true);
});

Deno.test("certificateFactsFromDer names RSA-PSS and Ed25519 certificates made by openssl", () => {
  const directory = Deno.makeTempDirSync();
  try {
    const pss = `${directory}/pss.pem`;
    execFileSync("/usr/bin/openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${directory}/pss.key`,
      "-subj",
      "/CN=pss",
      "-days",
      "2",
      "-sigopt",
      "rsa_padding_mode:pss",
      "-sha384",
      "-out",
      pss,
    ], { stdio: "ignore" });
    const ed25519 = `${directory}/ed25519.pem`;
    execFileSync("/usr/bin/openssl", [
      "req",
      "-x509",
      "-newkey",
      "ed25519",
      "-nodes",
      "-keyout",
      `${directory}/ed.key`,
      "-subj",
      "/CN=ed/O=Acme, Inc.",
      "-days",
      "2",
      "-out",
      ed25519,
    ], { stdio: "ignore" });

    const [pssFacts] = parseCertificateBundle(Deno.readFileSync(pss)).certificates;
    const [edFacts] = parseCertificateBundle(Deno.readFileSync(ed25519)).certificates;

    assert.deepEqual(
      [pssFacts.signatureAlgorithm, pssFacts.keyAlgorithm, pssFacts.keySize, pssFacts.selfSigned],
      ["SHA384-RSAPSS", "RSA", 2048, true],
    );
    assert.deepEqual(
      [
        edFacts.subject,
        edFacts.signatureAlgorithm,
        edFacts.keyAlgorithm,
        edFacts.keySize,
        edFacts.selfSigned,
      ],
      ["O=Acme\\, Inc.,CN=ed", "Ed25519", "Ed25519", 256, true],
    );
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
});

Deno.test("certificateFactsFromDer rejects bytes that are not a certificate", () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([]), /truncated element/],
    [new TextEncoder().encode("Hello world"), /expected Certificate SEQUENCE/],
    [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), /expected TBSCertificate/],
    [new Uint8Array([0x30, 0x82, 0x01]), /truncated length/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => certificateFactsFromDer(input), (error: unknown) => {
      assert.ok(error instanceof CertificateParseError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("certificateFactsFromDer rejects trailing data after the certificate", async () => {
  const certificate = await issueCertificate({ commonName: "trailing" });
  const withTrailer = new Uint8Array([...certificate.der, 0x00, 0x00]);

  assert.throws(() => certificateFactsFromDer(withTrailer), /2 bytes of trailing data/);
});

Deno.test("certificate facts of real files match what openssl shows", () => {
  const md5 = realCertificates("zlint-md5WithRSA.pem")[0];
  const rsa1024 = realCertificates("zlint-mpModulus1024-rsa1024.pem")[0];
  const after2050 = realCertificates("zlint-generalizedAfter2050.pem")[0];
  const negative = realCertificates("zlint-serialNumberNegative.pem")[0];
  const noSeconds = realCertificates("zlint-utcNoSeconds.pem")[0];
  const negativeValidity = realCertificates("zlint-validityNegative.pem")[0];
  const sha1 = realCertificates("badssl-wildcard-sha1-2016.pem")[0];
  const p521 = realCertificates("linkerd-issuer-p521.pem")[0];
  const serialZero = realCertificates("limbo-serial-zero.pem")[0];
  const emoji = realCertificates("limbo-unicode-emoji-san.pem")[0];
  const v1 = realCertificates("limbo-x509v1-leaf.pem")[0];
  const noSubject = realCertificates("badssl-no-subject-2020.pem");
  const selfSigned = realCertificates("badssl-wildcard-self-signed-2018.pem")[0];

  assert.equal(md5.signatureAlgorithm, "MD5-RSA");
  assert.equal(md5.serial, "020000000000D678B88D8D");
  assert.equal(rsa1024.keySize, 1024);
  assert.equal(rsa1024.serial, "07");
  assert.deepEqual([after2050.notBefore, after2050.notAfter, after2050.keySize], [
    new Date("2055-01-01T00:00:00Z"),
    new Date("2057-12-01T00:00:00Z"),
    512,
  ]);
  assert.equal(after2050.subject.startsWith("CN=gov.us,"), true);
  assert.equal(negative.serial, "-04316693ED");
  assert.equal(noSeconds.notBefore.toISOString(), "2012-04-27T00:00:00.000Z");
  assert.ok(negativeValidity.notAfter < negativeValidity.notBefore);
  assert.equal(sha1.signatureAlgorithm, "SHA1-RSA");
  assert.deepEqual([p521.keyAlgorithm, p521.keySize, p521.signatureAlgorithm], [
    "ECDSA",
    521,
    "ECDSA-SHA512",
  ]);
  // Same subject and issuer, but openssl also reports "certificate signature failure".
  assert.equal(p521.selfSigned, false);
  assert.equal(serialZero.serial, "00");
  assert.equal(serialZero.notAfter.toISOString(), "2969-05-03T00:00:01.000Z");
  assert.deepEqual(emoji.dnsNames, ["\u{1F61C}.example.com"]);
  assert.deepEqual([v1.isCA, v1.dnsNames, v1.subject], [false, [], "CN=example.com"]);
  assert.equal(noSubject[0].subject, "");
  assert.equal(
    noSubject[1].subject,
    "CN=UbiquiTLS™ DV RSA Server CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB",
  );
  assert.deepEqual([selfSigned.selfSigned, selfSigned.isCA], [true, false]);
});

Deno.test("facts escape control characters in names", async () => {
  const hostile = await issueCertificate({
    commonName: "evil\u001b]0;pwned\u0007 CA\u009b31m",
    dnsNames: ["a\u001b[2J.example.com"],
  });

  const facts = certificateFactsFromDer(hostile.der);

  // deno-lint-ignore no-control-regex
  const controls = /[\u0000-\u001f\u007f-\u009f]/;
  assert.doesNotMatch(facts.subject, controls);
  assert.doesNotMatch(facts.issuer, controls);
  assert.equal(facts.subject, "CN=evil\\1B]0\\;pwned\\07 CA\\9B31m");
  assert.deepEqual(facts.dnsNames, ["a\\x1B[2J.example.com"]);
});
