import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import type { Snapshot } from "../../core/model.ts";
import { base64, tlsSecret } from "../sandbox/fixtures.ts";
import type { KubeObject } from "../sandbox/server.ts";
import { startSandbox } from "../sandbox/server.ts";
import { runTrustwatch } from "../support/cli.ts";
import { issueCertificate, type IssuedCertificate } from "../support/pki.ts";

/** Length of the base64 pieces searched for in the output. */
const CHUNK_LENGTH = 16;

/** Characters skipped at each end of a Secret data value, because they encode mostly the PEM header and footer. */
const PEM_FRAME_CHARACTERS = 40;

interface JsonOutput {
  snapshot: Snapshot;
  exitCode: number;
}

function pemBody(pem: string): string {
  return pem.split("\n").filter((line) => line && !line.startsWith("-----")).join("");
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function chunksOf(text: string): string[] {
  const chunks: string[] = [];
  for (let start = 0; start + CHUNK_LENGTH <= text.length; start += CHUNK_LENGTH) {
    chunks.push(text.slice(start, start + CHUNK_LENGTH));
  }
  if (text.length >= CHUNK_LENGTH) chunks.push(text.slice(-CHUNK_LENGTH));
  return chunks;
}

/** Returns a certificate's private key as PKCS#8 PEM and as PKCS#1 (RSA) or SEC 1 (EC) PEM. */
function keyForms(issued: IssuedCertificate): string[] {
  const key = createPrivateKey(issued.keyPem);
  const legacyType = issued.keyType === "ec256" ? "sec1" : "pkcs1";
  return [issued.keyPem, key.export({ format: "pem", type: legacyType }) as string];
}

/**
 * Returns the pieces of text that would show a key leaked. These are 16-character chunks of the PEM
 * body, of the DER as one base64 line, of the DER as hex, and of the Secret's base64 data value.
 */
function leakMarkers(keyPems: string[], certificatePems: string[]): string[] {
  const certificateText = certificatePems.map((pem) => pemBody(pem)).join("\n");
  const markers = new Set<string>();
  for (const pem of keyPems) {
    const body = pemBody(pem);
    const der = Uint8Array.from(atob(body), (character) => character.charCodeAt(0));
    const hex = Array.from(der, (byte) => byte.toString(16).padStart(2, "0")).join("");
    const secretValue = base64(pem).slice(PEM_FRAME_CHARACTERS, -PEM_FRAME_CHARACTERS);
    for (
      const chunk of [
        ...chunksOf(body),
        ...chunksOf(bytesToBase64(der)),
        ...chunksOf(hex),
        ...chunksOf(secretValue),
      ]
    ) {
      // A key and its certificate share the public key, so a chunk found in a certificate is public.
      if (!certificateText.includes(chunk)) markers.add(chunk);
    }
  }
  return [...markers];
}

function assertNoMarker(output: string, markers: string[], where: string): void {
  const flattened = output.replace(/\\n|\\r|\s/g, "");
  for (const marker of markers) {
    assert.equal(output.includes(marker), false, `${where} contains key material "${marker}"`);
    assert.equal(
      flattened.includes(marker),
      false,
      `${where} contains key material "${marker}" across a line break`,
    );
  }
}

function inApps(name: string): { namespace: string; name: string } {
  return { namespace: "apps", name };
}

function opaqueSecret(name: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "apps" },
    type: "Opaque",
    data,
  };
}

Deno.test("now prints no private key byte", async () => {
  const ca = await issueCertificate({ commonName: "apps CA", isCA: true });
  const rsa = await issueCertificate({
    commonName: "rsa.apps.example.com",
    dnsNames: ["rsa.apps.example.com"],
    keyType: "rsa2048",
    issuer: ca,
  });
  const ec = await issueCertificate({
    commonName: "ec.apps.example.com",
    dnsNames: ["ec.apps.example.com"],
    issuer: ca,
  });
  const misplaced = await issueCertificate({ commonName: "misplaced.apps.example.com" });
  const misplacedRsa = await issueCertificate({
    commonName: "misplaced-rsa.apps.example.com",
    keyType: "rsa2048",
  });
  const [rsaPkcs8, rsaPkcs1] = keyForms(rsa);
  const [ecPkcs8, ecSec1] = keyForms(ec);
  const [misplacedPkcs8] = keyForms(misplaced);
  const [misplacedRsaPkcs8] = keyForms(misplacedRsa);
  const misplacedDer = Uint8Array.from(
    atob(pemBody(misplacedPkcs8)),
    (character) => character.charCodeAt(0),
  );

  const objects: KubeObject[] = [
    tlsSecret({
      ...inApps("rsa-pkcs8"),
      certPem: rsa.certPem,
      keyPem: rsaPkcs8,
      caPem: ca.certPem,
    }),
    tlsSecret({
      ...inApps("rsa-pkcs1"),
      certPem: rsa.certPem,
      keyPem: rsaPkcs1,
      caPem: ca.certPem,
    }),
    tlsSecret({ ...inApps("ec-pkcs8"), certPem: ec.certPem, keyPem: ecPkcs8, caPem: ca.certPem }),
    tlsSecret({ ...inApps("ec-sec1"), certPem: ec.certPem, keyPem: ecSec1, caPem: ca.certPem }),
    tlsSecret({
      namespace: "apps",
      name: "key-as-cert",
      certPem: misplacedPkcs8,
      keyPem: misplacedPkcs8,
    }),
    tlsSecret({ namespace: "apps", name: "der-key-as-cert", certPem: "", keyPem: misplacedPkcs8 }),
    tlsSecret({
      namespace: "apps",
      name: "base64-key-as-cert",
      certPem: base64(misplacedPkcs8),
      keyPem: misplacedPkcs8,
    }),
    opaqueSecret("key-in-ca", { "ca.crt": base64(misplacedRsaPkcs8) }),
  ];
  (objects[5].data as Record<string, string>)["tls.crt"] = bytesToBase64(misplacedDer);

  const markers = leakMarkers(
    [rsaPkcs8, rsaPkcs1, ecPkcs8, ecSec1, misplacedPkcs8, misplacedRsaPkcs8],
    [ca.certPem, rsa.certPem, ec.certPem, misplaced.certPem, misplacedRsa.certPem],
  );
  assert.ok(markers.length > 100, `only ${markers.length} markers; the key set is too small`);

  const sandbox = await startSandbox({ objects });
  try {
    const common = [
      "now",
      "--kubeconfig",
      sandbox.kubeconfigPath,
      "--resolve-only",
      "--log-level",
      "debug",
    ];
    const json = await runTrustwatch([...common, "-o", "json"]);
    const table = await runTrustwatch(common);
    for (const [name, run] of [["json", json], ["table", table]] as const) {
      assert.notEqual(run.stdout, "", `${name} output is empty: ${run.stderr}`);
      assert.match(run.stderr, /\[DBG\]/, `${name}: --log-level debug wrote no debug lines`);
      assertNoMarker(run.stdout, markers, `${name} stdout`);
      assertNoMarker(run.stderr, markers, `${name} stderr`);
    }

    const output: JsonOutput = JSON.parse(json.stdout);
    const errorOf = (name: string, key: string) => {
      const matching = output.snapshot.findings.filter((finding) =>
        finding.name === name && finding.target === key
      );
      assert.equal(matching.length, 1, `findings for ${name} ${key}: ${JSON.stringify(matching)}`);
      assert.equal(matching[0].probeOk, false);
      assert.equal(matching[0].severity, "warn");
      return matching[0].probeError ?? "";
    };
    assert.equal(
      errorOf("key-as-cert", "tls.crt"),
      "secret apps/key-as-cert: tls.crt contains a private key but no certificate",
    );
    assert.match(
      errorOf("der-key-as-cert", "tls.crt"),
      /^secret apps\/der-key-as-cert: tls\.crt contains a private key but no certificate/,
    );
    assert.match(
      errorOf("base64-key-as-cert", "tls.crt"),
      /^secret apps\/base64-key-as-cert: tls\.crt contains a base64-encoded private key but no certificate/,
    );
    assert.equal(
      errorOf("key-in-ca", "ca.crt"),
      "secret apps/key-in-ca: ca.crt contains a private key but no certificate",
    );
    const healthy = output.snapshot.findings
      .filter((finding) =>
        ["rsa-pkcs8", "rsa-pkcs1", "ec-pkcs8", "ec-sec1"].includes(finding.name!)
      )
      .map((finding) => `${finding.name} ${finding.target} ${finding.severity}`)
      .sort();
    assert.deepEqual(healthy, [
      "ec-pkcs8 ca.crt info",
      "ec-pkcs8 tls.crt info",
      "ec-sec1 ca.crt info",
      "ec-sec1 tls.crt info",
      "rsa-pkcs1 ca.crt info",
      "rsa-pkcs1 tls.crt info",
      "rsa-pkcs8 ca.crt info",
      "rsa-pkcs8 tls.crt info",
    ]);
  } finally {
    await sandbox.close();
  }
});
