import assert from "node:assert/strict";
import { CertManagerRenewalDiscoverer } from "../../../core/discovery/certmanager_renewal.ts";
import type { KubeObject } from "../../sandbox/server.ts";
import { scanWith, summarize, withSandbox } from "./_discovery_harness.ts";

const HOUR_MS = 3_600_000;

function hoursAgo(hours: number): string {
  return new Date(Date.now() - hours * HOUR_MS).toISOString().replace(/\.\d+Z$/, "Z");
}

function pendingRequest(
  name: string,
  pendingHours: number,
  extra: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "CertificateRequest",
    metadata: {
      name,
      namespace: "shop",
      annotations: { "cert-manager.io/certificate-name": "shop", ...extra },
    },
    spec: { request: "", issuerRef: { name: "letsencrypt" } },
    status: {
      conditions: [
        {
          type: "Approved",
          status: "True",
          reason: "cert-manager.io",
          lastTransitionTime: hoursAgo(pendingHours),
        },
        {
          type: "Ready",
          status: "False",
          reason: "Pending",
          message: "Waiting on order",
          lastTransitionTime: hoursAgo(pendingHours),
        },
      ],
    },
  };
}

function certificate(
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "shop", namespace: "shop" },
    spec: { secretName: "shop-tls", issuerRef: { name: "letsencrypt" }, ...spec },
    status,
  };
}

Deno.test("renewal pending request escalates with age", async () => {
  await withSandbox({
    objects: [
      pendingRequest("fresh", 0.2),
      pendingRequest("slow", 2),
      pendingRequest("stuck", 30),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "critical certmanager.renewal shop/stuck certificaterequest/stuck RENEWAL_STALLED",
      "info certmanager.renewal shop/fresh certificaterequest/fresh RENEWAL_IN_PROGRESS",
      "warn certmanager.renewal shop/slow certificaterequest/slow RENEWAL_STALLED",
    ]);
    const stuck = snapshot.findings.find((finding) => finding.name === "stuck")!;
    assert.match(stuck.probeError ?? "", /pending since .*: Waiting on order/);
  });
});

Deno.test("renewal ignores requests of an issued revision", async () => {
  await withSandbox({
    objects: [
      certificate({}, {
        revision: 3,
        conditions: [{ type: "Ready", status: "True", reason: "Ready" }],
      }),
      pendingRequest("old", 300, { "cert-manager.io/certificate-revision": "2" }),
      pendingRequest("new", 300, { "cert-manager.io/certificate-revision": "4" }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "critical certmanager.renewal shop/new certificaterequest/new RENEWAL_STALLED",
    ]);
  });
});

Deno.test("renewal flags short-lived CA Certificates", async () => {
  await withSandbox({
    objects: [certificate({ isCA: true, duration: "12h0m0s" })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn certmanager.renewal shop/shop certificate/shop EXCESSIVE_ROTATION",
    ]);
    assert.match(snapshot.findings[0].probeError ?? "", /is a CA with spec\.duration 12h0m0s/);
  });
  await withSandbox({
    objects: [certificate({ isCA: true, duration: "48h0m0s" })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings, [], "a two-day issuer, as Linkerd recommends, is fine");
  });
});

Deno.test("renewal past renewalTime is stalled", async () => {
  await withSandbox({
    objects: [certificate({}, {
      conditions: [
        { type: "Ready", status: "True", reason: "Ready" },
        { type: "Issuing", status: "True", reason: "Renewing", message: "Renewing certificate" },
      ],
      renewalTime: hoursAgo(3),
    })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn certmanager.renewal shop/shop certificate/shop RENEWAL_STALLED",
    ]);
    assert.match(snapshot.findings[0].probeError ?? "", /\(Issuing=True: Renewing certificate\)/);
  });
});
