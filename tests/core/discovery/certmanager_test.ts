import assert from "node:assert/strict";
import { CertManagerDiscoverer } from "../../../core/discovery/certmanager.ts";
import { CertManagerRenewalDiscoverer } from "../../../core/discovery/certmanager_renewal.ts";
import { TlsSecretDiscoverer } from "../../../core/discovery/tls_secrets.ts";
import { defaultConfig } from "../../../core/config.ts";
import { parseDuration } from "../../../core/duration.ts";
import { runScan } from "../../../core/scan.ts";
import type { Snapshot } from "../../../core/model.ts";
import { tlsSecret } from "../../sandbox/fixtures.ts";
import type { KubeObject } from "../../sandbox/server.ts";
import { daysFromNow, issueCertificate } from "../../support/pki.ts";
import type { KubeClient } from "../../../core/kube/client.ts";
import {
  discoverAll,
  discoveryContext,
  scanWith,
  summarize,
  withSandbox,
} from "./_discovery_harness.ts";

function certificate(options: {
  name: string;
  secretName: string;
  ready: "True" | "False";
  notAfter?: Date;
  renewalTime?: Date;
  dnsNames?: string[];
}): KubeObject {
  const status: Record<string, unknown> = {
    conditions: [{
      type: "Ready",
      status: options.ready,
      reason: options.ready === "True" ? "Ready" : "Failed",
      message: options.ready === "True"
        ? "Certificate is up to date and has not expired"
        : "issuer unreachable",
      lastTransitionTime: daysFromNow(-2).toISOString(),
    }],
  };
  if (options.notAfter) status.notAfter = options.notAfter.toISOString().replace(/\.\d+Z$/, "Z");
  if (options.renewalTime) {
    status.renewalTime = options.renewalTime.toISOString().replace(/\.\d+Z$/, "Z");
  }
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: options.name, namespace: "shop" },
    spec: {
      secretName: options.secretName,
      dnsNames: options.dnsNames ?? ["shop.example.com"],
      issuerRef: { kind: "ClusterIssuer", name: "internal" },
    },
    status,
  };
}

function certificateRequest(name: string, certificateName: string, failed: boolean): KubeObject {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "CertificateRequest",
    metadata: {
      name,
      namespace: "shop",
      annotations: {
        "cert-manager.io/certificate-name": certificateName,
        "cert-manager.io/certificate-revision": "2",
      },
    },
    spec: { request: "", issuerRef: { name: "internal" } },
    status: {
      conditions: [{
        type: "Ready",
        status: "False",
        reason: failed ? "Failed" : "Pending",
        message: "issuer unreachable",
        lastTransitionTime: daysFromNow(-0.1).toISOString(),
      }],
    },
  };
}

function scanAll(kube: KubeClient): Promise<Snapshot> {
  const config = defaultConfig();
  return runScan({
    kube,
    config,
    thresholds: {
      warnBeforeMs: parseDuration(config.warnBefore),
      critBeforeMs: parseDuration(config.critBefore),
    },
    probe: { resolveOnly: true },
    discoverers: [
      new CertManagerDiscoverer(),
      new CertManagerRenewalDiscoverer(),
      new TlsSecretDiscoverer(),
    ],
  });
}

async function expiringSetup() {
  const ca = await issueCertificate({ commonName: "shop CA", isCA: true });
  const notAfter = new Date(Math.floor(daysFromNow(20).getTime() / 1000) * 1000);
  const leaf = await issueCertificate({
    commonName: "shop.example.com",
    dnsNames: ["shop.example.com"],
    issuer: ca,
    notAfter,
  });
  return { ca, leaf, notAfter };
}

Deno.test("certmanager healthy renewal makes expiry info", async () => {
  const { ca, leaf, notAfter } = await expiringSetup();
  await withSandbox({
    objects: [
      tlsSecret({ namespace: "shop", name: "shop-tls", certPem: leaf.certPem, caPem: ca.certPem }),
      certificate({
        name: "shop",
        secretName: "shop-tls",
        ready: "True",
        notAfter,
        renewalTime: daysFromNow(3),
      }),
    ],
  }, async ({ kube }) => {
    const snapshot = await scanAll(kube);
    const leafFindings = snapshot.findings.filter((finding) => finding.serial === leaf.serialHex);
    assert.deepEqual(leafFindings.map(summarize).sort(), [
      "info certmanager shop/shop tls.crt MANAGED_EXPIRY",
      "info k8s.tlsSecret shop/shop-tls tls.crt MANAGED_EXPIRY",
    ]);
    assert.match(leafFindings[0].notes ?? "", /cert-manager Certificate shop\/shop renews it at/);
    assert.equal(leafFindings[0].remediation, undefined);
  });
});

Deno.test("certmanager failing renewal keeps the warning", async () => {
  const { ca, leaf, notAfter } = await expiringSetup();
  await withSandbox({
    objects: [
      tlsSecret({ namespace: "shop", name: "shop-tls", certPem: leaf.certPem, caPem: ca.certPem }),
      certificate({
        name: "shop",
        secretName: "shop-tls",
        ready: "True",
        notAfter,
        renewalTime: daysFromNow(3),
      }),
      certificateRequest("shop-abcde", "shop", true),
    ],
  }, async ({ kube }) => {
    const snapshot = await scanAll(kube);
    assert.deepEqual(snapshot.findings.map(summarize).sort(), [
      "info k8s.tlsSecret shop/shop-tls ca.crt -",
      "warn certmanager shop/shop tls.crt EXPIRING",
      "warn certmanager.renewal shop/shop-abcde certificaterequest/shop-abcde REQUEST_FAILED",
      "warn k8s.tlsSecret shop/shop-tls tls.crt EXPIRING",
    ]);
  });
});

Deno.test("certmanager Secret is the source of truth", async () => {
  const { ca, leaf, notAfter } = await expiringSetup();
  const claimed = daysFromNow(80);
  await withSandbox({
    objects: [
      tlsSecret({ namespace: "shop", name: "shop-tls", certPem: leaf.certPem, caPem: ca.certPem }),
      certificate({
        name: "shop",
        secretName: "shop-tls",
        ready: "True",
        notAfter: claimed,
        renewalTime: daysFromNow(50),
        dnsNames: ["shop.example.com", "www.shop.example.com"],
      }),
    ],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerDiscoverer(), { kube, sandbox });
    const [finding] = snapshot.findings;
    assert.equal(finding.notAfter, notAfter.toISOString().replace(/\.\d+Z$/, "Z"));
    assert.equal(
      finding.severity,
      "warn",
      "the Secret expires in 20 days whatever the status says",
    );
    assert.match(
      finding.notes ?? "",
      /status\.notAfter of Certificate shop\/shop is .* the Secret is what is served/,
    );
    assert.match(finding.notes ?? "", /www\.shop\.example\.com not covered/);
  });
});

Deno.test("certmanager missing Secret of a Ready Certificate", async () => {
  await withSandbox({
    objects: [certificate({ name: "shop", secretName: "shop-tls", ready: "True" })],
  }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn certmanager shop/shop shop-tls SECRET_NOT_FOUND",
    ]);
  });
});

Deno.test("certmanager absent is skipped quietly", async () => {
  await withSandbox({}, async ({ kube, sandbox }) => {
    assert.deepEqual(await discoverAll(new CertManagerDiscoverer(), discoveryContext(kube)), []);
    const snapshot = await scanWith(new CertManagerRenewalDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings, []);
  });
});

Deno.test("certmanager forbidden Secret is a finding", async () => {
  const objects = [
    certificate({ name: "first", secretName: "first-tls", ready: "True" }),
    certificate({ name: "second", secretName: "second-tls", ready: "True" }),
  ];

  await withSandbox({ objects, forbiddenResources: ["secrets"] }, async ({ kube, sandbox }) => {
    const snapshot = await scanWith(new CertManagerDiscoverer(), { kube, sandbox });
    assert.deepEqual(snapshot.errors, []);
    assert.deepEqual(snapshot.findings.map(summarize), [
      "warn certmanager shop/first first-tls READ_FORBIDDEN",
      "warn certmanager shop/second second-tls READ_FORBIDDEN",
    ]);
    const first = snapshot.findings[0];
    assert.match(
      first.probeError ?? "",
      /^certificate shop\/first: get secret shop\/first-tls is forbidden/,
    );
    assert.match(first.remediation ?? "", /kubectl auth can-i get secrets -n shop$/);
  });
});
