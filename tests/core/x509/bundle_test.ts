import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { decodeCaBundle, parseCertificateBundle } from "../../../core/x509/bundle.ts";
import { CertificateParseError } from "../../../core/x509/certificate.ts";
import { issueCertificate, issueChain, pemBundle } from "../../support/pki.ts";

const REALDATA_PEM = "/work/shared/realdata/pem/";
const OPENSSL = "/usr/bin/openssl";
const encoder = new TextEncoder();

function parseError(run: () => unknown): CertificateParseError {
  try {
    run();
  } catch (error) {
    if (error instanceof CertificateParseError) return error;
    throw error;
  }
  assert.fail("expected a CertificateParseError");
}

function withTempDirectory<T>(run: (directory: string) => T): T {
  const directory = Deno.makeTempDirSync();
  try {
    return run(directory);
  } finally {
    Deno.removeSync(directory, { recursive: true });
  }
}

Deno.test("bundle of every real PEM file yields facts or a parse error", () => {
  const expected: Record<string, number | RegExp> = {
    "badssl-10000-sans-2021.pem": 2,
    "badssl-idn-cyrillic-cn-2020.pem": 3,
    "badssl-no-subject-2020.pem": 3,
    "badssl-wildcard-expired-2015.pem": 3,
    "badssl-wildcard-incomplete-chain-2022.pem": 1,
    "badssl-wildcard-self-signed-2018.pem": 1,
    "badssl-wildcard-sha1-2016.pem": 2,
    "cfssl-bundle-pkcs7.pem": 2,
    "cfssl-cert.der": 1,
    "cfssl-empty-cert-trailing-garbage.pem":
      /^PEM block 1 \(CERTIFICATE\) is not a valid certificate: the block is empty$/,
    "cfssl-no-pem-armor.pem": /^base64 DER without PEM BEGIN\/END lines \(first bytes "MIIB…"\)/,
    "cfssl-reverse-order-bundle.pem": 2,
    "istio-cert-chain-trailing-line.pem": 3,
    "istio-root-ca-bundle-with-graceful-failures.pem": 4,
    "limbo-cryptography.io-missing-intermediate.pem": 2,
    "limbo-expired-intermediate-chain.pem": 3,
    "limbo-serial-zero.pem": 2,
    "limbo-unicode-emoji-san.pem": 2,
    "limbo-x509v1-leaf.pem": 2,
    "linkerd-issuer-p521.pem": 1,
    "zlint-generalizedAfter2050.pem": 1,
    "zlint-md5WithRSA.pem": 1,
    "zlint-mpModulus1024-rsa1024.pem": 1,
    "zlint-serialNumberNegative.pem": 1,
    "zlint-utcNoSeconds.pem": 1,
    "zlint-validityNegative.pem": 1,
  };
  const files = [...Deno.readDirSync(REALDATA_PEM)].map((entry) => entry.name).sort();
  assert.deepEqual(files, Object.keys(expected).sort());

  for (const file of files) {
    const bytes = Deno.readFileSync(REALDATA_PEM + file);
    const expectation = expected[file];
    if (typeof expectation === "number") {
      assert.equal(parseCertificateBundle(bytes).certificates.length, expectation, file);
    } else {
      assert.match(parseError(() => parseCertificateBundle(bytes)).message, expectation, file);
    }
  }
});

Deno.test("bundle of real PKCS#7 and DER files reports their format", () => {
  const pkcs7 = parseCertificateBundle(Deno.readFileSync(REALDATA_PEM + "cfssl-bundle-pkcs7.pem"));
  const der = parseCertificateBundle(Deno.readFileSync(REALDATA_PEM + "cfssl-cert.der"));

  assert.equal(pkcs7.format, "pkcs7");
  assert.deepEqual(pkcs7.certificates.map((certificate) => certificate.subject), [
    "CN=cloudflare-inter.com,ST=California,L=San Francisco,OU=Systems Engineering,O=CloudFlare,C=US",
    "CN=cloudflare-inter.com,ST=California,L=San Francisco,OU=Systems Engineering,O=CloudFlare,C=US",
  ]);
  assert.deepEqual(
    {
      format: der.format,
      subject: der.certificates[0].subject,
      serial: der.certificates[0].serial,
    },
    {
      format: "der",
      subject: "O=acme.co,L=San Francisco,ST=California,C=US",
      serial: "13F433E3D79B1BB9",
    },
  );
});

Deno.test("bundle from openssl crl2pkcs7 keeps certificate order", async () => {
  const chain = await issueChain({ dnsNames: ["p7.example.com"], label: "p7" });
  const results = withTempDirectory((directory) => {
    Deno.writeTextFileSync(`${directory}/chain.pem`, pemBundle(chain.leaf, chain.intermediate));
    const formats = ["PEM", "DER"].map((outform) => {
      const output = `${directory}/chain.p7.${outform}`;
      execFileSync(OPENSSL, [
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        `${directory}/chain.pem`,
        "-outform",
        outform,
        "-out",
        output,
      ]);
      return parseCertificateBundle(Deno.readFileSync(output));
    });
    return formats.map((bundle) => ({
      format: bundle.format,
      subjects: bundle.certificates.map((certificate) => certificate.subject),
    }));
  });

  const expected = { format: "pkcs7", subjects: ["CN=p7.example.com", "CN=p7 intermediate CA"] };
  assert.deepEqual(results, [expected, expected]);
});

Deno.test("bundle with key block skips the key", async () => {
  const certificate = await issueCertificate({ commonName: "keyed" });
  const text = `${certificate.keyPem}${certificate.certPem}`;

  const bundle = parseCertificateBundle(encoder.encode(text));

  assert.deepEqual(
    { ...bundle, certificates: bundle.certificates.map((facts) => facts.subject) },
    {
      certificates: ["CN=keyed"],
      format: "pem",
      privateKeyBlocks: 1,
      ignoredBlocks: [],
      invalidBlocks: [],
    },
  );
});

Deno.test("bundle errors never echo key material", async () => {
  const certificate = await issueCertificate({ commonName: "leaky" });
  const keyBody = certificate.keyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const brokenCertificate = "-----BEGIN CERTIFICATE-----\nMIIBroken=\n-----END CERTIFICATE-----\n";
  const rsaKey = certificate.keyPem.replaceAll("PRIVATE KEY", "RSA PRIVATE KEY");
  const derKey = Uint8Array.from(atob(keyBody), (character) => character.charCodeAt(0));
  const inputs = [
    encoder.encode(certificate.keyPem),
    encoder.encode(rsaKey),
    encoder.encode(certificate.keyPem + brokenCertificate),
    encoder.encode(btoa(certificate.keyPem)),
    encoder.encode(keyBody),
    derKey,
  ];

  for (const input of inputs) {
    const message = parseError(() => parseCertificateBundle(input)).message;
    // Windows of 8 base64 characters: long enough that English words in messages cannot match.
    for (let start = 0; start + 8 <= keyBody.length; start++) {
      assert.ok(!message.includes(keyBody.slice(start, start + 8)), message);
    }
    assert.ok(!message.includes(keyBody.slice(0, 4)), message);
  }
  assert.equal(
    parseError(() => parseCertificateBundle(inputs[0])).message,
    "contains a private key but no certificate",
  );
  assert.equal(
    parseError(() => parseCertificateBundle(derKey)).message,
    "contains a private key but no certificate",
  );
  assert.equal(
    parseError(() => parseCertificateBundle(inputs[3])).message,
    "contains a base64-encoded private key but no certificate",
  );
});

Deno.test("bundle with CRLF lines and text around blocks", async () => {
  const chain = await issueChain({ dnsNames: ["crlf.example.com"], label: "crlf" });
  const text = `subject=CN=crlf\n${
    pemBundle(chain.leaf)
  }# comment\n${chain.intermediate.certPem}trailing`
    .replaceAll("\n", "\r\n");

  const bundle = parseCertificateBundle(encoder.encode(text));

  assert.deepEqual(bundle.certificates.map((certificate) => certificate.der), [
    chain.leaf.der,
    chain.intermediate.der,
  ]);
  assert.equal(bundle.format, "pem");
});

Deno.test("bundle with CRL and TRUSTED CERTIFICATE blocks", async () => {
  const certificate = await issueCertificate({ commonName: "trusted" });
  const trustedPem = withTempDirectory((directory) => {
    Deno.writeTextFileSync(`${directory}/cert.pem`, certificate.certPem);
    return execFileSync(OPENSSL, [
      "x509",
      "-in",
      `${directory}/cert.pem`,
      "-trustout",
      "-addtrust",
      "serverAuth",
    ])
      .toString();
  });
  const crl = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";

  const bundle = parseCertificateBundle(encoder.encode(crl + trustedPem));

  assert.match(trustedPem, /BEGIN TRUSTED CERTIFICATE/);
  assert.deepEqual(bundle.certificates.map((facts) => facts.der), [certificate.der]);
  assert.deepEqual(bundle.ignoredBlocks, ["X509 CRL"]);
});

Deno.test("bundle with one bad block among good ones keeps the good ones", async () => {
  const certificate = await issueCertificate({ commonName: "good" });
  const bad = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

  const bundle = parseCertificateBundle(encoder.encode(certificate.certPem + bad));

  assert.deepEqual(bundle.certificates.map((facts) => facts.subject), ["CN=good"]);
  assert.deepEqual(bundle.invalidBlocks, [
    "PEM block 2 (CERTIFICATE) is not a valid certificate: expected TBSCertificate (tag 0x30), found tag 0x02",
  ]);
});

Deno.test("bundle of only bad blocks names the first", () => {
  const bad = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

  const error = parseError(() => parseCertificateBundle(encoder.encode(bad + bad)));

  assert.equal(
    error.message,
    "PEM block 1 (CERTIFICATE) is not a valid certificate: expected TBSCertificate (tag 0x30), found tag 0x02",
  );
});

Deno.test("bundle of the real Istio root bundle keeps four roots and names block 4", () => {
  const bundle = parseCertificateBundle(
    Deno.readFileSync(REALDATA_PEM + "istio-root-ca-bundle-with-graceful-failures.pem"),
  );
  assert.equal(bundle.certificates.length, 4);
  assert.equal(bundle.invalidBlocks.length, 1);
  assert.match(bundle.invalidBlocks[0], /^PEM block 4 \(CERTIFICATE\) is not a valid certificate/);
});

Deno.test("bundle of empty and whitespace input is empty", () => {
  for (const input of ["", "  \r\n\t\n"]) {
    assert.deepEqual(parseCertificateBundle(encoder.encode(input)), {
      certificates: [],
      format: "empty",
      privateKeyBlocks: 0,
      ignoredBlocks: [],
      invalidBlocks: [],
    });
  }
});

Deno.test("bundle of garbage input says what was found", () => {
  const cases: [Uint8Array, string][] = [
    [
      encoder.encode("Hello world"),
      'not PEM, DER or PKCS#7 (first bytes "Hell…"); expected a certificate',
    ],
    [encoder.encode("abc"), 'not PEM, DER or PKCS#7 (first bytes "abc"); expected a certificate'],
    [
      new Uint8Array([0xff, 0x00, 0x01]),
      "not PEM, DER or PKCS#7 (binary data starting with byte 0xFF); expected a certificate",
    ],
    [
      new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]),
      "DER data is not a valid certificate: expected TBSCertificate (tag 0x30), found tag 0x02",
    ],
    [
      encoder.encode("-----BEGIN CERTIFICATE-----\nMIIB\n"),
      'PEM block 1 (CERTIFICATE) has no "-----END CERTIFICATE-----" line',
    ],
    [
      encoder.encode("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"),
      "contains no certificate, only PEM blocks of type PUBLIC KEY; expected a CERTIFICATE block",
    ],
  ];
  for (const [input, message] of cases) {
    assert.equal(parseError(() => parseCertificateBundle(input)).message, message);
  }
});

Deno.test("bundle of base64-encoded PEM asks for one more decode", async () => {
  const certificate = await issueCertificate({ commonName: "twice" });

  const error = parseError(() => parseCertificateBundle(encoder.encode(btoa(certificate.certPem))));

  assert.equal(
    error.message,
    'base64-encoded PEM (first bytes "LS0t…"); expected PEM, so decode the base64 once more',
  );
});

Deno.test("bundle of concatenated DER certificates reads each", async () => {
  const chain = await issueChain({ dnsNames: ["der.example.com"], label: "der" });

  const bundle = parseCertificateBundle(
    new Uint8Array([...chain.leaf.der, ...chain.intermediate.der]),
  );

  assert.equal(bundle.format, "der");
  assert.deepEqual(bundle.certificates.map((facts) => facts.der), [
    chain.leaf.der,
    chain.intermediate.der,
  ]);
});

Deno.test("bundle of 10k PEM certificates parses well under a second", () => {
  const chain = Deno.readTextFileSync(
    REALDATA_PEM + "limbo-cryptography.io-missing-intermediate.pem",
  );
  const bytes = encoder.encode(chain.repeat(5000));

  const started = performance.now();
  const bundle = parseCertificateBundle(bytes);
  const elapsedMs = performance.now() - started;

  assert.equal(bundle.certificates.length, 10_000);
  assert.ok(elapsedMs < 1000, `took ${elapsedMs.toFixed(0)} ms`);
});

Deno.test("decodeCaBundle accepts PEM, base64 of PEM and DER", async () => {
  const ca = await issueCertificate({ commonName: "ca bundle", isCA: true });

  const results = [
    decodeCaBundle(encoder.encode(ca.certPem)),
    decodeCaBundle(encoder.encode(btoa(ca.certPem))),
    decodeCaBundle(encoder.encode(`${btoa(ca.certPem).match(/.{1,76}/g)!.join("\n")}\n`)),
    decodeCaBundle(ca.der),
  ].map((bundle) => ({
    encoding: bundle.encoding,
    format: bundle.format,
    der: bundle.certificates[0].der,
  }));

  assert.deepEqual(results, [
    { encoding: "pem", format: "pem", der: ca.der },
    { encoding: "base64-pem", format: "pem", der: ca.der },
    { encoding: "base64-pem", format: "pem", der: ca.der },
    { encoding: "der", format: "der", der: ca.der },
  ]);
});

Deno.test("decodeCaBundle rejects the Istio test-ca placeholder", () => {
  const afterApiDecoding = parseError(() => decodeCaBundle(encoder.encode("test-ca")));
  const stillEncoded = parseError(() => decodeCaBundle(encoder.encode(btoa("test-ca"))));

  assert.equal(
    afterApiDecoding.message,
    'not PEM, DER or PKCS#7 (first bytes "test…"); expected a certificate',
  );
  assert.equal(
    stillEncoded.message,
    'not PEM, DER or PKCS#7 (first bytes "dGVz…"); expected a certificate',
  );
});

Deno.test("decodeCaBundle of empty input is empty", () => {
  assert.deepEqual(decodeCaBundle(new Uint8Array()), {
    certificates: [],
    format: "empty",
    privateKeyBlocks: 0,
    ignoredBlocks: [],
    invalidBlocks: [],
    encoding: "pem",
  });
});

Deno.test("bundle with a bad PKCS#7 block keeps the certificates beside it", async () => {
  const certificate = await issueCertificate({ commonName: "good" });
  const bad = "-----BEGIN PKCS7-----\nMAMCAQA=\n-----END PKCS7-----\n";

  const bundle = parseCertificateBundle(encoder.encode(certificate.certPem + bad));

  assert.deepEqual(bundle.certificates.map((facts) => facts.subject), ["CN=good"]);
  assert.equal(bundle.invalidBlocks.length, 1);
  assert.match(bundle.invalidBlocks[0], /^PEM block 2 \(PKCS7\) is not valid PKCS#7/);
});
