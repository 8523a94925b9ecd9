import assert from "node:assert/strict";
import { DEFAULT_PAGE_SIZE } from "../../../core/kube/client.ts";
import type { Finding, Snapshot } from "../../../core/model.ts";
import { TlsSecretDiscoverer } from "../../../core/discovery/tls_secrets.ts";
import type { Target, TargetContext } from "../../../core/target.ts";
import { tlsSecret } from "../../sandbox/fixtures.ts";
import type { KubeObject, RequestLogEntry } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate, issueChain, pemBundle } from "../../support/pki.ts";
import {
  discoverAll,
  discoveryContext,
  onlyFinding,
  scanWith,
  summarize,
  toBase64,
  utf8Bytes,
  withSandbox,
} from "./_discovery_harness.ts";

const OPENSSL_PATH = "/usr/bin/openssl";
const OPENSSL_AVAILABLE = (() => {
  try {
    return Deno.statSync(OPENSSL_PATH).isFile;
  } catch {
    return false;
  }
})();

/** Builds a Secret whose `data` values are given already base64-encoded. */
function rawSecret(
  namespace: string,
  name: string,
  type: string,
  data: Record<string, string>,
): KubeObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type, data };
}

function secretContext(namespace: string, name: string): TargetContext {
  return {
    source: "k8s.tlsSecret",
    namespace,
    name,
    failClosed: false,
    ref: { resource: "secret", namespace, name },
  };
}

/** Returns the query of every Secret list request, in order. */
function secretLists(log: RequestLogEntry[]): { path: string; params: URLSearchParams }[] {
  return log
    .filter((entry) => entry.method === "GET" && /\/secrets\?/.test(entry.path))
    .map((entry) => {
      const url = new URL(entry.path, "https://sandbox.invalid");
      return { path: url.pathname, params: url.searchParams };
    });
}

Deno.test("tls secret discoverer reads certificate keys by Secret type", async () => {
  const chain = await issueChain({ dnsNames: ["web.apps.example.com"], label: "apps" });
  const leafPem = chain.leaf.certPem;
  const rootPem = chain.root.certPem;
  const objects = [
    tlsSecret({
      namespace: "apps",
      name: "web-tls",
      certPem: leafPem,
      keyPem: chain.leaf.keyPem,
      caPem: rootPem,
    }),
    tlsSecret({ namespace: "apps", name: "opaque-cert", certPem: leafPem, type: "Opaque" }),
    rawSecret("apps", "trust-bundle", "Opaque", { "ca.crt": toBase64(rootPem) }),
    rawSecret("apps", "db-password", "Opaque", { password: toBase64("hunter2") }),
    rawSecret("apps", "sh.helm.release.v1.web.v1", "helm.sh/release.v1", {
      release: toBase64("H4sIAAAA"),
      // A certificate key that a discoverer listing every Secret type would pick up.
      "tls.crt": toBase64(leafPem),
    }),
    rawSecret("apps", "empty-with-ca", "kubernetes.io/tls", {
      "tls.crt": "",
      "tls.key": "",
      "ca.crt": toBase64(rootPem),
    }),
    rawSecret("apps", "empty", "kubernetes.io/tls", { "tls.crt": "", "tls.key": "" }),
    rawSecret("apps", "bad-base64", "kubernetes.io/tls", { "tls.crt": "%%%%" }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const targets = await discoverAll(new TlsSecretDiscoverer(), discoveryContext(kube));
    const expected: Target[] = [
      {
        ...secretContext("apps", "bad-base64"),
        kind: "problem",
        findingType: "CERT_UNREADABLE",
        target: "tls.crt",
        message:
          "secret apps/bad-base64: tls.crt is not valid base64; re-create the Secret with kubectl create secret tls",
      },
      {
        ...secretContext("apps", "empty"),
        kind: "problem",
        findingType: "CERT_MISSING",
        target: "tls.crt",
        message:
          "secret apps/empty: tls.crt is empty and there is no ca.crt; the Secret holds no certificate",
      },
      {
        ...secretContext("apps", "empty-with-ca"),
        kind: "material",
        objectLabel: "secret apps/empty-with-ca",
        key: "ca.crt",
        bytes: utf8Bytes(rootPem),
        anchors: undefined,
      },
      {
        ...secretContext("apps", "web-tls"),
        kind: "material",
        objectLabel: "secret apps/web-tls",
        key: "tls.crt",
        bytes: utf8Bytes(leafPem),
        anchors: utf8Bytes(rootPem),
      },
      {
        ...secretContext("apps", "web-tls"),
        kind: "material",
        objectLabel: "secret apps/web-tls",
        key: "ca.crt",
        bytes: utf8Bytes(rootPem),
        anchors: undefined,
      },
      {
        ...secretContext("apps", "opaque-cert"),
        kind: "material",
        objectLabel: "secret apps/opaque-cert",
        key: "tls.crt",
        bytes: utf8Bytes(leafPem),
        anchors: undefined,
      },
      {
        ...secretContext("apps", "trust-bundle"),
        kind: "material",
        objectLabel: "secret apps/trust-bundle",
        key: "ca.crt",
        bytes: utf8Bytes(rootPem),
        anchors: undefined,
      },
    ];
    assert.deepEqual(targets, expected);

    const lists = secretLists(sandbox.requestLog);
    assert.deepEqual(
      lists.map(({ path, params }) => `${path} ${params.get("fieldSelector")}`),
      ["/api/v1/secrets type=kubernetes.io/tls", "/api/v1/secrets type=Opaque"],
    );
    const secretRequests = sandbox.requestLog.filter((entry) => entry.path.includes("/secrets"));
    assert.equal(secretRequests.length, 2, "no Secret is fetched outside the two lists");
    for (const entry of secretRequests) assert.match(entry.path, /fieldSelector=type%3D/);
  });
});

Deno.test("tls secret discoverer follows continue past one page", async () => {
  const certificate = await issueCertificate({ commonName: "bulk.example.com" });
  const count = DEFAULT_PAGE_SIZE + 20;
  const data = { "tls.crt": toBase64(certificate.certPem) };
  const objects = Array.from(
    { length: count },
    (_, index) =>
      rawSecret("bulk", `cert-${String(index).padStart(4, "0")}`, "kubernetes.io/tls", data),
  );

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const targets = await discoverAll(new TlsSecretDiscoverer(), discoveryContext(kube));
    assert.equal(targets.length, count);
    assert.equal(new Set(targets.map((target) => target.name)).size, count);

    const tlsLists = secretLists(sandbox.requestLog)
      .filter(({ params }) => params.get("fieldSelector") === "type=kubernetes.io/tls");
    assert.equal(tlsLists.length, 2, "520 Secrets take two pages of 500");
    assert.equal(tlsLists[0].params.get("limit"), String(DEFAULT_PAGE_SIZE));
    assert.equal(tlsLists[0].params.get("continue"), null);
    assert.equal(tlsLists[1].params.get("limit"), String(DEFAULT_PAGE_SIZE));
    assert.notEqual(tlsLists[1].params.get("continue"), null);
  });
});

Deno.test("tls secret discoverer lists only the scoped namespaces", async () => {
  const certificate = await issueCertificate({ commonName: "scoped.example.com" });
  const objects = ["team-a", "team-b", "team-c"].map((namespace) =>
    tlsSecret({ namespace, name: "app-tls", certPem: certificate.certPem })
  );

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const context = discoveryContext(kube, { namespaces: ["team-a", "team-c"] });
    const targets = await discoverAll(new TlsSecretDiscoverer(), context);
    assert.deepEqual(
      targets.map((target) => `${target.namespace}/${target.name}`),
      ["team-a/app-tls", "team-c/app-tls"],
    );
    assert.deepEqual(
      secretLists(sandbox.requestLog).map(({ path, params }) =>
        `${path} ${params.get("fieldSelector")}`
      ),
      [
        "/api/v1/namespaces/team-a/secrets type=kubernetes.io/tls",
        "/api/v1/namespaces/team-c/secrets type=kubernetes.io/tls",
        "/api/v1/namespaces/team-a/secrets type=Opaque",
        "/api/v1/namespaces/team-c/secrets type=Opaque",
      ],
    );
  });
});

/** Returns the findings of one Secret, as `severity target findingType`, sorted. */
function secretFindings(snapshot: Snapshot, name: string): string[] {
  return snapshot.findings
    .filter((finding) => finding.name === name)
    .map((finding) => `${finding.severity} ${finding.target} ${finding.findingType ?? "-"}`)
    .sort();
}

Deno.test("tls secret scan reports superseded CAs and unreadable keys", async () => {
  const oldCa = await issueCertificate({
    commonName: "rotating CA",
    isCA: true,
    notBefore: daysFromNow(-400),
    notAfter: daysFromNow(-1),
  });
  const newCa = await issueCertificate({
    commonName: "rotating CA",
    isCA: true,
    notBefore: daysFromNow(-10),
    notAfter: daysFromNow(3650),
  });
  const root = await issueCertificate({ commonName: "holder CA", isCA: true });
  const objects = [
    rawSecret("apps", "rotating-ca", "Opaque", { "ca.crt": toBase64(pemBundle(oldCa, newCa)) }),
    rawSecret("apps", "empty-with-ca", "kubernetes.io/tls", {
      "tls.crt": "",
      "ca.crt": toBase64(root.certPem),
    }),
    rawSecret("apps", "empty", "kubernetes.io/tls", { "tls.crt": "", "tls.key": "" }),
    rawSecret("apps", "garbage", "kubernetes.io/tls", { "tls.crt": toBase64("garbage, not PEM") }),
  ];

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new TlsSecretDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);

    assert.deepEqual(secretFindings(snapshot, "rotating-ca"), [
      "info ca.crt[1] -",
      "warn ca.crt[0] SUPERSEDED_CA",
    ]);
    const superseded = onlyFinding(
      snapshot,
      (finding) => finding.target === "ca.crt[0]",
      "the superseded CA",
    );
    assert.equal(superseded.serial, oldCa.serialHex);
    assert.match(superseded.notes ?? "", new RegExp(`superseded by serial ${newCa.serialHex}`));

    assert.deepEqual(secretFindings(snapshot, "empty-with-ca"), ["info ca.crt -"]);
    assert.deepEqual(secretFindings(snapshot, "empty"), ["warn tls.crt CERT_MISSING"]);

    const garbage = onlyFinding(snapshot, (finding) => finding.name === "garbage", "garbage");
    assert.equal(garbage.severity, "warn");
    assert.equal(garbage.findingType, "CERT_UNREADABLE");
    assert.equal(garbage.target, "tls.crt");
    assert.match(garbage.probeError ?? "", /^secret apps\/garbage: tls\.crt /);
  });
});

/** Converts PEM certificates to a PKCS#7 certs-only bundle with openssl, as DER or PEM. */
async function pkcs7Of(pem: string, outform: "DER" | "PEM"): Promise<Uint8Array> {
  const input = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(input, pem);
    const output = await new Deno.Command(OPENSSL_PATH, {
      args: ["crl2pkcs7", "-nocrl", "-certfile", input, "-outform", outform],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    return output.stdout;
  } finally {
    await Deno.remove(input);
  }
}

function chainSummary(finding: Finding): string {
  return [
    finding.severity,
    finding.target,
    finding.subject,
    finding.chainLen ?? "-",
    finding.chainErrors?.join("; ") ?? "no chain errors",
  ].join(" | ");
}

Deno.test("tls secret scan reads PEM, DER and PKCS#7 chains", async () => {
  const chain = await issueChain({ dnsNames: ["chained.apps.example.com"], label: "chained" });
  const leafAndIntermediate = pemBundle(chain.leaf, chain.intermediate);
  const objects = [
    rawSecret("apps", "pem-chain", "kubernetes.io/tls", {
      "tls.crt": toBase64(leafAndIntermediate),
      "ca.crt": toBase64(chain.root.certPem),
    }),
    rawSecret("apps", "der-leaf", "kubernetes.io/tls", { "tls.crt": toBase64(chain.leaf.der) }),
  ];
  if (OPENSSL_AVAILABLE) {
    for (const form of ["DER", "PEM"] as const) {
      objects.push(rawSecret("apps", `pkcs7-${form.toLowerCase()}`, "kubernetes.io/tls", {
        "tls.crt": toBase64(await pkcs7Of(leafAndIntermediate, form)),
        "ca.crt": toBase64(chain.root.certPem),
      }));
    }
  } else {
    console.log(`skipping PKCS#7 Secrets: ${OPENSSL_PATH} not found`);
  }

  await withSandbox({ objects }, async ({ sandbox, kube }) => {
    const snapshot = await scanWith(new TlsSecretDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    const byName = (name: string) =>
      snapshot.findings.filter((finding) => finding.name === name).map(chainSummary).sort();
    const leaf = chain.leaf.subject;
    const intermediate = chain.intermediate.subject;
    const root = chain.root.subject;

    const chained = [
      `info | ca.crt | ${root} | - | no chain errors`,
      `info | tls.crt[0] | ${leaf} | 2 | no chain errors`,
      `info | tls.crt[1] | ${intermediate} | - | no chain errors`,
    ];
    assert.deepEqual(byName("pem-chain"), chained);
    if (OPENSSL_AVAILABLE) {
      assert.deepEqual(byName("pkcs7-der"), chained);
      assert.deepEqual(byName("pkcs7-pem"), chained);
    }

    const der = onlyFinding(snapshot, (finding) => finding.name === "der-leaf", "DER tls.crt");
    assert.equal(der.probeOk, true);
    assert.equal(der.subject, leaf);
    assert.equal(der.serial, chain.leaf.serialHex);
    assert.equal(der.target, "tls.crt");

    const pemLeaf = onlyFinding(
      snapshot,
      (finding) => finding.name === "pem-chain" && finding.target === "tls.crt[0]",
      "the PEM leaf",
    );
    assert.deepEqual(pemLeaf.issuerChain, [intermediate, root], summarize(pemLeaf));
  });
});
