import assert from "node:assert/strict";
import { verifyChain } from "../../../core/x509/verify.ts";
import { type CertificateFacts, certificateFactsFromDer } from "../../../core/x509/certificate.ts";
import { parseCertificateBundle } from "../../../core/x509/bundle.ts";
import { daysFromNow, issueCertificate, issueChain, type IssuedChain } from "../../support/pki.ts";

const REALDATA_PEM = "/work/shared/realdata/pem/";

function facts(...issued: { der: Uint8Array }[]): CertificateFacts[] {
  return issued.map((certificate) => certificateFactsFromDer(certificate.der));
}

function rfc3339(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function subjects(chain: IssuedChain): { intermediate: string; root: string } {
  return { intermediate: chain.intermediate.subject, root: chain.root.subject };
}

Deno.test("verifyChain trusts a valid 3-level chain", async () => {
  const chain = await issueChain({ dnsNames: ["api.example.com"], label: "valid" });

  const check = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
    hostname: "api.example.com",
  });

  const { intermediate, root } = subjects(chain);
  assert.deepEqual(check, { trusted: true, errors: [], issuerChain: [intermediate, root] });
});

Deno.test("verifyChain tolerates the anchor in the served chain", async () => {
  const chain = await issueChain({ dnsNames: ["api.example.com"], label: "served root" });

  const check = verifyChain(facts(chain.leaf, chain.intermediate, chain.root), {
    anchors: facts(chain.root),
    at: new Date(),
  });

  const { intermediate, root } = subjects(chain);
  assert.deepEqual(check, { trusted: true, errors: [], issuerChain: [intermediate, root] });
});

Deno.test("verifyChain reports an expired leaf", async () => {
  const leafNotAfter = daysFromNow(-3);
  const chain = await issueChain({
    dnsNames: ["old.example.com"],
    leafNotBefore: daysFromNow(-30),
    leafNotAfter,
    label: "expired leaf",
  });

  const check = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
  });

  const { intermediate, root } = subjects(chain);
  assert.deepEqual(check, {
    trusted: false,
    errors: [`leaf expired ${rfc3339(leafNotAfter)}`],
    issuerChain: [intermediate, root],
  });
});

Deno.test("verifyChain reports an expired intermediate", async () => {
  const root = await issueCertificate({ commonName: "exp root", isCA: true });
  const intermediateNotAfter = daysFromNow(-1);
  const intermediate = await issueCertificate({
    commonName: "exp intermediate",
    isCA: true,
    issuer: root,
    notBefore: daysFromNow(-10),
    notAfter: intermediateNotAfter,
  });
  const leaf = await issueCertificate({
    commonName: "leaf",
    dnsNames: ["leaf.example.com"],
    issuer: intermediate,
  });

  const check = verifyChain(facts(leaf, intermediate), { anchors: facts(root), at: new Date() });

  assert.deepEqual(check, {
    trusted: false,
    errors: [`intermediate CN=exp intermediate expired ${rfc3339(intermediateNotAfter)}`],
    issuerChain: ["CN=exp intermediate", "CN=exp root"],
  });
});

Deno.test("verifyChain reports a missing intermediate", async () => {
  const chain = await issueChain({ dnsNames: ["gap.example.com"], label: "gap" });

  const check = verifyChain(facts(chain.leaf), { anchors: facts(chain.root), at: new Date() });

  assert.deepEqual(check, {
    trusted: false,
    errors: [
      `missing intermediate or unknown authority: issuer ${chain.intermediate.subject} is neither served nor a trusted CA`,
    ],
    issuerChain: [],
  });
});

Deno.test("verifyChain reports wrong order but builds the path", async () => {
  const chain = await issueChain({ dnsNames: ["order.example.com"], label: "order" });
  const { intermediate, root } = subjects(chain);

  const rootFirst = verifyChain(facts(chain.root, chain.leaf, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
  });
  const intermediateFirst = verifyChain(facts(chain.intermediate, chain.leaf), {
    anchors: facts(chain.root),
    at: new Date(),
  });

  assert.deepEqual(rootFirst, {
    trusted: true,
    errors: ["chain out of order"],
    issuerChain: [intermediate, root],
  });
  assert.deepEqual(intermediateFirst, {
    trusted: true,
    errors: ["chain out of order"],
    issuerChain: [intermediate, root],
  });
});

Deno.test("verifyChain reports a self-signed leaf", async () => {
  const leaf = await issueCertificate({ commonName: "self", dnsNames: ["self.example.com"] });
  const otherRoot = await issueCertificate({ commonName: "other root", isCA: true });

  const withoutAnchors = verifyChain(facts(leaf), { anchors: [], at: new Date() });
  const withAnchors = verifyChain(facts(leaf), { anchors: facts(otherRoot), at: new Date() });
  const pinned = verifyChain(facts(leaf), { anchors: facts(leaf), at: new Date() });

  assert.deepEqual(withoutAnchors, {
    trusted: false,
    errors: ["self-signed leaf"],
    issuerChain: [],
  });
  assert.deepEqual(withAnchors, {
    trusted: false,
    errors: ["self-signed leaf", "unknown authority: chain does not lead to a trusted CA"],
    issuerChain: [],
  });
  assert.deepEqual(pinned, { trusted: true, errors: [], issuerChain: [] });
});

Deno.test("verifyChain reports a wrong anchor as unknown authority", async () => {
  const chain = await issueChain({ dnsNames: ["wrong.example.com"], label: "served" });
  const other = await issueChain({ dnsNames: ["other.example.com"], label: "other" });
  const sameName = await issueCertificate({ commonName: "served root CA", isCA: true });

  const unrelated = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(other.root),
    at: new Date(),
  });
  const impostor = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(sameName),
    at: new Date(),
  });

  assert.deepEqual(unrelated, {
    trusted: false,
    errors: [
      `unknown authority: chain does not lead to a trusted CA (issuer ${chain.root.subject} is not a trust anchor)`,
    ],
    issuerChain: [chain.intermediate.subject],
  });
  assert.deepEqual(impostor, {
    trusted: false,
    errors: [
      `unknown authority: trust anchor CN=served root CA did not sign intermediate ${chain.intermediate.subject}`,
    ],
    issuerChain: [chain.intermediate.subject],
  });
});

Deno.test("verifyChain reports a leaf that is not yet valid", async () => {
  const leafNotBefore = daysFromNow(2);
  const chain = await issueChain({
    dnsNames: ["future.example.com"],
    leafNotBefore,
    leafNotAfter: daysFromNow(90),
    label: "future",
  });

  const check = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
  });

  assert.deepEqual(check.errors, [`leaf not yet valid until ${rfc3339(leafNotBefore)}`]);
  assert.equal(check.trusted, false);
});

Deno.test("verifyChain reports a name the SANs do not cover", async () => {
  const chain = await issueChain({ dnsNames: ["a.example.com", "b.example.com"], label: "names" });
  const noSans = await issueCertificate({
    commonName: "legacy.example.com",
    issuer: chain.intermediate,
  });

  const wrongName = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
    hostname: "webhook.ns.svc",
  });
  const cnOnly = verifyChain(facts(noSans, chain.intermediate), {
    anchors: facts(chain.root),
    at: new Date(),
    hostname: "legacy.example.com",
  });

  assert.deepEqual(wrongName.errors, [
    "name webhook.ns.svc not covered by SANs [a.example.com, b.example.com]",
  ]);
  assert.equal(wrongName.trusted, true);
  assert.deepEqual(cnOnly.errors, [
    "name legacy.example.com not covered by SANs [] (the subject CN is not used for name checks)",
  ]);
});

Deno.test("verifyChain with anchors empty still checks dates, order and names", async () => {
  const leafNotAfter = daysFromNow(-1);
  const chain = await issueChain({
    dnsNames: ["x.example.com"],
    leafNotBefore: daysFromNow(-5),
    leafNotAfter,
    label: "no anchors",
  });

  const check = verifyChain(facts(chain.intermediate, chain.leaf), {
    anchors: [],
    at: new Date(),
    hostname: "y.example.com",
  });

  assert.deepEqual(check, {
    trusted: false,
    errors: [
      "chain out of order",
      `leaf expired ${rfc3339(leafNotAfter)}`,
      "name y.example.com not covered by SANs [x.example.com]",
    ],
    issuerChain: [chain.intermediate.subject],
  });
});

Deno.test("verifyChain picks the valid anchor among rotated ones with the same name", async () => {
  const chain = await issueChain({ dnsNames: ["rotate.example.com"], label: "rotate" });
  const oldRoot = await issueCertificate({
    commonName: "rotate root CA",
    isCA: true,
    notBefore: daysFromNow(-400),
    notAfter: daysFromNow(-30),
  });

  const check = verifyChain(facts(chain.leaf, chain.intermediate), {
    anchors: facts(oldRoot, chain.root),
    at: new Date(),
  });

  assert.deepEqual(check, {
    trusted: true,
    errors: [],
    issuerChain: [chain.intermediate.subject, chain.root.subject],
  });
});

Deno.test("verifyChain never throws on odd input", () => {
  const odd = {
    subject: "CN=odd",
    issuer: "CN=odd",
    der: new Uint8Array([1, 2]),
  } as unknown as CertificateFacts;

  assert.deepEqual(verifyChain([], { anchors: [], at: new Date() }), {
    trusted: false,
    errors: ["no certificate to verify"],
    issuerChain: [],
  });
  assert.equal(verifyChain([odd, odd], { anchors: [odd], at: new Date() }).trusted, false);
});

Deno.test("verifyChain on real bundles from badssl and x509-limbo", () => {
  const read = (file: string) =>
    parseCertificateBundle(Deno.readFileSync(REALDATA_PEM + file)).certificates;
  const limboExpired = read("limbo-expired-intermediate-chain.pem");
  const limboMissing = read("limbo-cryptography.io-missing-intermediate.pem");
  const cfsslReverse = read("cfssl-reverse-order-bundle.pem");
  const at = new Date("2022-06-01T00:00:00Z");

  const expired = verifyChain(limboExpired.slice(0, 2), { anchors: limboExpired.slice(2), at });
  const missing = verifyChain(limboMissing, { anchors: [], at: new Date("2023-06-01T00:00:00Z") });
  const reverse = verifyChain(cfsslReverse, { anchors: [], at });

  assert.deepEqual(expired, {
    trusted: false,
    errors: [
      "intermediate CN=x509-limbo-intermediate-pathlen-None,OU=329070180811767415228158806262463979163378451112 expired 2020-01-01T00:00:00Z",
    ],
    issuerChain: [
      "CN=x509-limbo-intermediate-pathlen-None,OU=329070180811767415228158806262463979163378451112",
      "CN=x509-limbo-root",
    ],
  });
  assert.deepEqual(missing, {
    trusted: false,
    errors: [
      "missing intermediate or unknown authority: issuer CN=R3,O=Let's Encrypt,C=US is neither served nor a trusted CA",
    ],
    issuerChain: [],
  });
  assert.deepEqual(reverse.errors, ["chain out of order"]);
  assert.equal(reverse.issuerChain.length, 1);
});
