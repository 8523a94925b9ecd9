import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { defaultConfig } from "../../../core/config.ts";
import { SpiffeDiscoverer } from "../../../core/discovery/spiffe.ts";
import type { Snapshot } from "../../../core/model.ts";
import { startSandbox } from "../../sandbox/server.ts";
import { runTrustwatch } from "../../support/cli.ts";
import { daysFromNow, issueCertificate } from "../../support/pki.ts";
import {
  type ServedBundle,
  startWorkloadApiServer,
  type WorkloadApiServer,
} from "../spiffe/_workload_api_server.ts";
import { onlyFinding, scanWith, summarize } from "./_discovery_harness.ts";

/** SPIFFE bundles (JWKS) from public projects, read in place beside the repository. */
const REALDATA_SPIFFE = new URL("../../../../shared/realdata/k8s/spiffe/", import.meta.url)
  .pathname;
const hasRealdata = (() => {
  try {
    return Deno.statSync(REALDATA_SPIFFE).isDirectory;
  } catch {
    return false;
  }
})();
if (!hasRealdata) console.log(`skipping SPIFFE real-data bundles: ${REALDATA_SPIFFE} not found`);

/** Returns the DER certificates of the `x509-svid` keys of a SPIFFE bundle in JWKS form. */
async function x509AuthoritiesOf(file: string): Promise<Uint8Array[]> {
  const jwks = JSON.parse(await Deno.readTextFile(`${REALDATA_SPIFFE}${file}`)) as {
    keys?: { use?: string; x5c?: string[] }[];
  };
  return (jwks.keys ?? [])
    .filter((key) => key.use === "x509-svid")
    .flatMap((key) => key.x5c ?? [])
    .map((base64) => new Uint8Array(Buffer.from(base64, "base64")));
}

async function withWorkloadApi(
  behaviour: Parameters<typeof startWorkloadApiServer>[0],
  body: (server: WorkloadApiServer) => Promise<void>,
): Promise<void> {
  const server = await startWorkloadApiServer(behaviour);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function scanSpiffe(address: string): Promise<Snapshot> {
  return scanWith(new SpiffeDiscoverer({ socket: address }), {});
}

Deno.test("spiffe discoverer reports every bundle and federated bundle", async () => {
  const rootA = await issueCertificate({ commonName: "example.org root A", isCA: true });
  const rootB = await issueCertificate({
    commonName: "example.org root B",
    isCA: true,
    notAfter: daysFromNow(5),
  });
  const partner = await issueCertificate({ commonName: "partner root", isCA: true });
  const bundles: ServedBundle[] = [
    { trustDomainId: "spiffe://example.org", certificates: [rootA.der, rootB.der] },
    { trustDomainId: "spiffe://partner.example", certificates: [partner.der] },
  ];
  if (hasRealdata) {
    bundles.push(
      {
        trustDomainId: "spiffe://gospiffe.test",
        certificates: await x509AuthoritiesOf("spiffebundle_valid_1.json"),
      },
      {
        trustDomainId: "spiffe://nokeys.test",
        certificates: await x509AuthoritiesOf("spiffebundle_no_keys.json"),
      },
    );
  }

  await withWorkloadApi({ x509Bundles: bundles }, async (server) => {
    const snapshot = await scanSpiffe(server.address);
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(server.securityHeaders, ["true"]);
    assert.deepEqual(server.calls, ["/SpiffeWorkloadAPI/FetchX509Bundles"]);

    const summary = snapshot.findings.map(summarize).sort();
    const expected = [
      "critical spiffe example.org spiffe://example.org[1] EXPIRING",
      "info spiffe example.org spiffe://example.org[0] -",
      "info spiffe partner.example spiffe://partner.example -",
    ];
    if (hasRealdata) {
      expected.push(
        // go-spiffe's test bundle: a P-384 root that expired on 2023-05-12.
        "critical spiffe gospiffe.test spiffe://gospiffe.test EXPIRED",
        // A bundle without keys: the trust domain has no CA, so no peer can be verified.
        "critical spiffe nokeys.test spiffe://nokeys.test CERT_MISSING",
      );
    }
    assert.deepEqual(summary, expected.sort());

    const rootFinding = onlyFinding(
      snapshot,
      (finding) => finding.target === "spiffe://example.org[0]",
      "root A",
    );
    assert.equal(rootFinding.subject, rootA.subject);
    assert.equal(rootFinding.serial, rootA.serialHex);
    assert.equal(rootFinding.isCA, true);
    assert.match(rootFinding.notes ?? "", /trustDomain=spiffe:\/\/example\.org/);
    assert.match(rootFinding.notes ?? "", new RegExp(`workloadAPI=${server.address}`));
    if (hasRealdata) {
      const realRoot = onlyFinding(snapshot, (f) => f.name === "gospiffe.test", "go-spiffe root");
      assert.equal(realRoot.notAfter, "2023-05-12T19:33:47Z");
      assert.equal(realRoot.keyAlgorithm, "ECDSA");
      assert.equal(realRoot.keySize, 384);
    }
  });
});

Deno.test("spiffe discoverer falls back to FetchX509SVID", async () => {
  const own = await issueCertificate({ commonName: "own root", isCA: true });
  const federated = await issueCertificate({
    commonName: "federated root",
    isCA: true,
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-1),
  });
  const behaviour = {
    x509Svid: {
      svids: [
        { spiffeId: "spiffe://own.test/ns/trustwatch/sa/trustwatch", bundle: [own.der] },
        { spiffeId: "spiffe://own.test/ns/trustwatch/sa/other", bundle: [own.der] },
      ],
      federated: [{ trustDomainId: "spiffe://remote.test", certificates: [federated.der] }],
    },
  };

  await withWorkloadApi(behaviour, async (server) => {
    const snapshot = await scanSpiffe(server.socketPath);
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(server.calls, [
      "/SpiffeWorkloadAPI/FetchX509Bundles",
      "/SpiffeWorkloadAPI/FetchX509SVID",
    ]);
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "critical spiffe remote.test spiffe://remote.test EXPIRED",
      "info spiffe own.test spiffe://own.test -",
    ]);
    const remote = onlyFinding(snapshot, (f) => f.name === "remote.test", "federated bundle");
    assert.match(remote.notes ?? "", /federated bundle/);
    assert.equal(JSON.stringify(snapshot).includes("not a real key"), false);
  });
});

Deno.test("spiffe missing socket names the path and fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const socketPath = `${dir}/agent.sock`;
    const snapshot = await scanSpiffe(`unix://${socketPath}`);
    assert.deepEqual(snapshot.findings, []);
    assert.equal(snapshot.errors.length, 1);
    assert.equal(snapshot.errors[0].source, "spiffe");
    assert.match(snapshot.errors[0].message, new RegExp(`socket ${socketPath} does not exist`));
    assert.match(snapshot.errors[0].message, /--spiffe-socket/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spiffe server error is a discovery error", async () => {
  const behaviour = {
    x509Bundles: { failWith: 7, details: "no identity issued" },
  };
  await withWorkloadApi(behaviour, async (server) => {
    const snapshot = await scanSpiffe(server.address);
    assert.deepEqual(snapshot.findings, []);
    assert.equal(snapshot.errors.length, 1);
    const message = snapshot.errors[0].message;
    assert.match(message, new RegExp(`Workload API at ${server.socketPath}`));
    assert.match(message, /FetchX509Bundles failed with PERMISSION_DENIED \(no identity issued\)/);
    assert.match(message, /spire-server entry create/);
  });
});

Deno.test("spiffe without a socket setting yields nothing", async () => {
  const snapshot = await scanWith(new SpiffeDiscoverer(), { config: defaultConfig() });
  assert.deepEqual(snapshot, { ...snapshot, errors: [], findings: [] });
});

Deno.test("now --spiffe-socket reports bundle findings", async () => {
  const root = await issueCertificate({
    commonName: "cli root",
    isCA: true,
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-2),
  });
  const bundles = [{ trustDomainId: "spiffe://cli.test", certificates: [root.der] }];
  const sandbox = await startSandbox({});
  try {
    await withWorkloadApi({ x509Bundles: bundles }, async (server) => {
      const run = await runTrustwatch([
        "now",
        "--kubeconfig",
        sandbox.kubeconfigPath,
        "--resolve-only",
        "--spiffe-socket",
        server.address,
        "-o",
        "json",
      ]);
      assert.equal(run.code, 2, run.stderr);
      const { snapshot } = JSON.parse(run.stdout) as { snapshot: Snapshot };
      const spiffe = snapshot.findings.filter((finding) => finding.source === "spiffe");
      assert.deepEqual(spiffe.map(summarize), [
        "critical spiffe cli.test spiffe://cli.test EXPIRED",
      ]);
    });
  } finally {
    await sandbox.close();
  }
});
