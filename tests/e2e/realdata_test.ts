import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Config, defaultConfig } from "../../core/config.ts";
import { connectToCluster } from "../../core/kube/client.ts";
import type { Finding, Snapshot } from "../../core/model.ts";
import { runScan } from "../../core/scan.ts";
import { type KubeObject, startSandbox } from "../sandbox/server.ts";

/**
 * Real-world manifests and certificates live beside the repository in ../shared/realdata (CI
 * lays it out there); they are read in place, never copied.
 */
const REALDATA = new URL("../../../shared/realdata/", import.meta.url).pathname;
const HOUR_MS = 3_600_000;
const THRESHOLDS = { warnBeforeMs: 720 * HOUR_MS, critBeforeMs: 336 * HOUR_MS };
const hasRealdata = (() => {
  try {
    return Deno.statSync(REALDATA).isDirectory;
  } catch {
    return false;
  }
})();
if (!hasRealdata) console.log(`skipping real-data tests: ${REALDATA} not found`);

async function scanObjects(
  options: { manifests?: string[]; objects?: KubeObject[]; config?: Config },
): Promise<Snapshot> {
  const sandbox = await startSandbox(options);
  try {
    const kube = await connectToCluster({ kubeconfig: sandbox.kubeconfigPath });
    return await runScan({
      kube,
      config: options.config ?? defaultConfig(),
      thresholds: THRESHOLDS,
      // Manifests name public hosts and in-cluster names: nothing but the sandbox is dialed.
      probe: { resolveOnly: true },
    });
  } finally {
    await sandbox.close();
  }
}

function problemKeys(snapshot: Snapshot): string[] {
  return snapshot.findings
    .filter((finding) => finding.severity !== "info")
    .map((finding) =>
      `${finding.severity} ${finding.source} ${
        finding.namespace ?? "-"
      }/${finding.name} ${finding.target} ${finding.findingType}`
    )
    .sort();
}

function findingsOf(snapshot: Snapshot, name: string): Finding[] {
  return snapshot.findings.filter((finding) => finding.name === name);
}

/**
 * The problems a careful operator expects from each manifest on its own. Services the manifests
 * point at have no backend here, so their endpoints are unreachable: critical behind
 * failurePolicy Fail and APIServices, warn behind failurePolicy Ignore.
 */
const EXPECTED_PROBLEMS: Record<string, string[]> = {
  "bugs/apiservice-failed-discovery-cert-manager-metrics.yaml": [
    "critical k8s.apiservice cert-manager/v1beta1.webhook.cert-manager.io caBundle CABUNDLE_EXPIRED",
    "critical k8s.apiservice cert-manager/v1beta1.webhook.cert-manager.io cert-manager-webhook.cert-manager.svc:443 PROBE_FAILED",
    "critical k8s.apiservice kube-system/v1beta1.metrics.k8s.io metrics-server.kube-system.svc:443 PROBE_FAILED",
  ],
  "bugs/cert-exporter-65-tls-key-globbed.yaml": [],
  "bugs/cert-manager-4167-ca-crt-root-only.yaml": [],
  "bugs/cert-manager-7895-ready-true-but-expired.yaml": [
    "critical certmanager shop/shop tls.crt EXPIRED",
    "critical certmanager.renewal shop/shop certificate/shop RENEWAL_STALLED",
    "critical k8s.tlsSecret shop/shop-tls tls.crt[0] EXPIRED",
  ],
  "bugs/enix-20-tls-secret-ca-only.yaml": [],
  "bugs/enix-371-opaque-custom-keys.yaml": [],
  "bugs/enix-512-kyverno-ca-bundle-old-first.yaml": [
    "warn k8s.tlsSecret kyverno/kyverno-svc.kyverno.svc.kyverno-tls-ca tls.crt[0] SUPERSEDED_CA",
  ],
  "bugs/istio-46612-expired-validation-webhook-cabundle.yaml": [
    "critical k8s.webhook istio-system/istiod-istio-system/validation.istio.io caBundle CABUNDLE_EXPIRED",
    "critical k8s.webhook istio-system/istiod-istio-system/validation.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
  ],
  "bugs/k8s-61171-cabundle-der-not-pem.yaml": [
    "critical k8s.webhook default/admission/pod.admission.example.com caBundle CABUNDLE_INVALID",
    "critical k8s.webhook default/admission/pod.admission.example.com admission-webhook.default.svc:443 PROBE_FAILED",
  ],
  "bugs/linkerd-5800-bundled-trust-anchors.yaml": [
    "warn mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt[1] SUPERSEDED_CA",
  ],
  "bugs/ssl-exporter-37-expired-target.yaml": [
    "critical annotation web/legacy-shop tls.crt EXPIRED",
    "critical k8s.tlsSecret web/legacy-shop-tls tls.crt[0] EXPIRED",
    "critical k8s.tlsSecret web/legacy-shop-tls tls.crt[2] EXPIRED",
    "warn annotation web/legacy-shop legacy-shop.web.svc:443 PROBE_FAILED",
  ],
  "k8s/annotated/probe-annotated-objects.yaml": [
    "critical annotation ingress-nginx/ingress-nginx-controller ingress-nginx-controller.ingress-nginx.svc:443 PROBE_FAILED",
    "warn annotation cert-manager/cert-manager-webhook cert-manager-webhook-ca SECRET_NOT_FOUND",
    "warn annotation cert-manager/cert-manager-webhook pods NO_ENDPOINTS",
    "warn annotation security/vault trustwatch.dev/enabled ANNOTATION_INVALID",
  ],
  "k8s/apiservices/metrics-server-v1beta1.metrics.k8s.io.yaml": [
    "critical k8s.apiservice kube-system/v1beta1.metrics.k8s.io metrics-server.kube-system.svc:443 PROBE_FAILED",
  ],
  "k8s/apiservices/sample-apiserver-wardle.yaml": [
    "critical k8s.apiservice wardle/v1.wardle.k8s.io api.wardle.svc:443 PROBE_FAILED",
    "critical k8s.apiservice wardle/v1alpha1.wardle.k8s.io api.wardle.svc:443 PROBE_FAILED",
    "critical k8s.apiservice wardle/v1beta1.wardle.k8s.io api.wardle.svc:443 PROBE_FAILED",
  ],
  "k8s/cert-manager/acme-first-issuance-pending.yaml": [
    "critical certmanager.renewal default/example-tls-bw5t9 certificaterequest/example-tls-bw5t9 RENEWAL_STALLED",
    "warn certmanager.renewal default/example-tls certificate/example-tls REQUEST_PENDING",
  ],
  "k8s/cert-manager/acme-issuance-failed-order-invalid.yaml": [
    "warn certmanager.renewal app/www-example-com certificate/www-example-com REQUEST_PENDING",
    "warn certmanager.renewal app/www-example-com-x4pv5 certificaterequest/www-example-com-x4pv5 REQUEST_FAILED",
    "warn certmanager.renewal app/www-example-com-x4pv5-1142850554-3917460133 challenge/www-example-com-x4pv5-1142850554-3917460133 CHALLENGE_FAILED",
  ],
  "k8s/cert-manager/acme-issued-ready-with-secret.yaml": [
    "critical certmanager default/quickstart-example-tls tls.crt EXPIRED",
    "critical certmanager.renewal default/quickstart-example-tls certificate/quickstart-example-tls RENEWAL_STALLED",
    "critical k8s.tlsSecret default/quickstart-example-tls tls.crt[0] EXPIRED",
  ],
  "k8s/cert-manager/certificaterequest-denied-and-invalid.yaml": [
    "warn certmanager.renewal default/admin-example-com-7sd2f certificaterequest/admin-example-com-7sd2f REQUEST_DENIED",
    "warn certmanager.renewal default/broken-csr-9xk2p certificaterequest/broken-csr-9xk2p REQUEST_INVALID",
  ],
  "k8s/gateway/gateway-invalid-tls-configuration.yaml": [
    "warn k8s.gateway gateway-conformance-infra/gateway-certificate-malformed-secret/https tls.crt CERT_UNREADABLE",
    "warn k8s.gateway gateway-conformance-infra/gateway-certificate-nonexistent-secret/https gateway-conformance-infra/nonexistent-certificate SECRET_NOT_FOUND",
    "warn k8s.gateway gateway-conformance-infra/gateway-certificate-unsupported-group/https gateway-conformance-infra/tls-validity-checks-certificate REF_INVALID",
    "warn k8s.gateway gateway-conformance-infra/gateway-certificate-unsupported-kind/https gateway-conformance-infra/tls-validity-checks-certificate REF_INVALID",
    "warn k8s.tlsSecret gateway-conformance-infra/malformed-certificate tls.crt CERT_UNREADABLE",
  ],
  "k8s/gateway/tls-basic.yaml": [
    "warn k8s.gateway default/tls-basic/bar-https default/bar-example-com-cert SECRET_NOT_FOUND",
    "warn k8s.gateway default/tls-basic/foo-https default/foo-example-com-cert SECRET_NOT_FOUND",
  ],
  "k8s/gateway/tls-cert-cross-namespace.yaml": [
    "warn k8s.gateway gateway-api-example-ns1/cross-namespace-tls-gateway/https gateway-api-example-ns2/wildcard-example-com-cert SECRET_NOT_FOUND",
  ],
  "k8s/ingress/cert-manager-tutorial-ingress-tls.yaml": [
    "warn k8s.ingressTLS default/kuard quickstart-example-tls SECRET_NOT_FOUND",
  ],
  "k8s/ingress/ingress-nginx-multi-tls.yaml": [
    "warn k8s.ingressTLS default/foo-tls barbaz SECRET_NOT_FOUND",
    "warn k8s.ingressTLS default/foo-tls foobar SECRET_NOT_FOUND",
  ],
  "k8s/ingress/ingress-nginx-tls-termination.yaml": [
    "warn k8s.ingressTLS default/nginx-test tls-secret SECRET_NOT_FOUND",
  ],
  "k8s/ingress/k8s-docs-tls-example-ingress-flowstyle.yaml": [
    "warn k8s.ingressTLS default/tls-example-ingress testsecret-tls SECRET_NOT_FOUND",
  ],
  "k8s/mesh/istio/cacerts-plugin-ca-samples.yaml": [],
  "k8s/mesh/istio/istio-ca-root-cert-configmap.yaml": [],
  "k8s/mesh/istio/istio-ca-secret-selfsigned.yaml": [],
  "k8s/mesh/linkerd/cert-manager-managed-identity-docs.yaml": [
    "warn certmanager cert-manager/linkerd-trust-anchor linkerd-trust-anchor SECRET_NOT_FOUND",
    "warn certmanager linkerd/linkerd-identity-issuer linkerd-identity-issuer SECRET_NOT_FOUND",
  ],
  "k8s/mesh/linkerd/identity-issuer-expired-1990.yaml": [
    "critical mesh.linkerd linkerd/linkerd-identity-issuer crt.pem EXPIRED",
    "critical mesh.linkerd linkerd/linkerd-identity-trust-roots ca-bundle.crt EXPIRED",
  ],
  "k8s/mesh/linkerd/identity-issuer-linkerd-tls-scheme.yaml": [],
  "k8s/secrets/cert-manager-docs-ca-key-pair-no-type.yaml": [],
  "k8s/secrets/ingress-nginx-admission-certgen-patched.yaml": [
    "critical k8s.webhook ingress-nginx/ingress-nginx-admission/validate.nginx.ingress.kubernetes.io ingress-nginx-controller-admission.ingress-nginx.svc:443 PROBE_FAILED",
  ],
  "k8s/spiffe/spire-bundle-configmap.yaml": [],
  "k8s/webhooks/cert-manager-v1.18.0-webhook-cainjector.yaml": [
    "critical k8s.webhook cert-manager/cert-manager-webhook/webhook.cert-manager.io cert-manager-webhook.cert-manager.svc:443 PROBE_FAILED",
    "critical k8s.webhook cert-manager/cert-manager-webhook/webhook.cert-manager.io cert-manager-webhook.cert-manager.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/ingress-nginx-v1.15.1-admission.yaml": [
    "critical k8s.webhook ingress-nginx/ingress-nginx-admission/validate.nginx.ingress.kubernetes.io ingress-nginx-controller-admission.ingress-nginx.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/istio-external-cp-url-ip-addr.yaml": [
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/namespace.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/object.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/rev.namespace.sidecar-injector.istio.io 1.1.1.1:5100 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/rev.object.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-validator-external-istiod/rev.validation.istio.io test.com:15017 PROBE_FAILED",
    "warn k8s.webhook -/istiod-default-validator/validation.istio.io test.com:15017 PROBE_FAILED",
  ],
  "k8s/webhooks/istio-external-cp-url-valid.yaml": [
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/namespace.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/object.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/rev.namespace.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-sidecar-injector-external-istiod/rev.object.sidecar-injector.istio.io test.com:443 PROBE_FAILED",
    "critical k8s.webhook -/istio-validator-external-istiod/rev.validation.istio.io test.com:15017 PROBE_FAILED",
    "warn k8s.webhook -/istiod-default-validator/validation.istio.io test.com:15017 PROBE_FAILED",
  ],
  "k8s/webhooks/istio-sidecar-injector-default.yaml": [
    "critical k8s.webhook istio-system/istio-sidecar-injector/namespace.sidecar-injector.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
    "critical k8s.webhook istio-system/istio-sidecar-injector/object.sidecar-injector.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
    "critical k8s.webhook istio-system/istio-sidecar-injector/rev.namespace.sidecar-injector.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
    "critical k8s.webhook istio-system/istio-sidecar-injector/rev.object.sidecar-injector.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/istio-validator-nonpem-cabundle.yaml": [
    "critical k8s.webhook istio-system/istio-validator-istio-system/rev.validation.istio.io caBundle CABUNDLE_INVALID",
    "critical k8s.webhook istio-system/istio-validator-istio-system/rev.validation.istio.io istiod.istio-system.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/kube-webhook-certgen-e2e-unpatched.yaml": [
    "critical k8s.apiservice example-service/v1alpha1.pod-policy.example.com example-namespace.example-service.svc:443 PROBE_FAILED",
    "critical k8s.webhook example-namespace/pod-policy.example.com/pod-policy.example.com example-service.example-namespace.svc:443 PROBE_FAILED",
    "critical k8s.webhook example-namespace/pod-policy.example.com/pod-policy.example.com example-service.example-namespace.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/kyverno-runtime-webhooks.yaml": [
    "critical k8s.webhook kyverno/kyverno-resource-validating-webhook-cfg/vpol.validate.kyverno.svc-fail kyverno-svc.kyverno.svc:443 PROBE_FAILED",
    "warn k8s.webhook kyverno/kyverno-resource-mutating-webhook-cfg/mutate.kyverno.svc-ignore kyverno-svc.kyverno.svc:443 PROBE_FAILED",
  ],
  "k8s/webhooks/linkerd-admission-webhooks.yaml": [
    "warn k8s.webhook linkerd/linkerd-policy-validator-webhook-config/linkerd-policy-validator.linkerd.io caBundle CABUNDLE_INVALID",
    "warn k8s.webhook linkerd/linkerd-proxy-injector-webhook-config/linkerd-proxy-injector.linkerd.io caBundle CABUNDLE_INVALID",
    "warn k8s.webhook linkerd/linkerd-sp-validator-webhook-config/linkerd-sp-validator.linkerd.io caBundle CABUNDLE_INVALID",
    "warn k8s.webhook linkerd/linkerd-policy-validator-webhook-config/linkerd-policy-validator.linkerd.io linkerd-policy-validator.linkerd.svc:443 PROBE_FAILED",
    "warn k8s.webhook linkerd/linkerd-proxy-injector-webhook-config/linkerd-proxy-injector.linkerd.io linkerd-proxy-injector.linkerd.svc:443 PROBE_FAILED",
    "warn k8s.webhook linkerd/linkerd-sp-validator-webhook-config/linkerd-sp-validator.linkerd.io linkerd-sp-validator.linkerd.svc:443 PROBE_FAILED",
  ],
};

Deno.test({
  name: "realdata manifests give exactly the expected problems",
  ignore: !hasRealdata,
  async fn() {
    const files = [
      ...walkYaml(`${REALDATA}k8s`),
      ...walkYaml(`${REALDATA}bugs`),
    ].map((path) => path.slice(REALDATA.length)).sort();
    assert.deepEqual(
      files,
      Object.keys(EXPECTED_PROBLEMS).sort(),
      "every real manifest has expectations",
    );

    for (const file of files) {
      const snapshot = await scanObjects({ manifests: [REALDATA + file] });
      assert.deepEqual(snapshot.errors, [], file);
      assert.deepEqual(problemKeys(snapshot), [...EXPECTED_PROBLEMS[file]].sort(), file);
    }
  },
});

function walkYaml(directory: string): string[] {
  const paths: string[] = [];
  for (const entry of Deno.readDirSync(directory)) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory) paths.push(...walkYaml(path));
    else if (/\.ya?ml$/.test(entry.name)) paths.push(path);
  }
  return paths;
}

Deno.test({
  name: "realdata bundle with superseded CA first reports each CA",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/enix-512-kyverno-ca-bundle-old-first.yaml`],
    });
    const [old, current] = findingsOf(snapshot, "kyverno-svc.kyverno.svc.kyverno-tls-ca")
      .sort((a, b) => a.notAfter.localeCompare(b.notAfter));
    assert.equal(old.severity, "warn");
    assert.equal(old.findingType, "SUPERSEDED_CA");
    assert.match(old.notes ?? "", new RegExp(`superseded by serial ${current.serial}`));
    assert.equal(current.severity, "info");
    assert.equal(old.subject, current.subject);
    assert.notEqual(old.serial, current.serial);
  },
});

Deno.test({
  name: "realdata TLS Secret with only ca.crt reports the CA",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/enix-20-tls-secret-ca-only.yaml`],
    });
    const findings = findingsOf(snapshot, "repo-tls-cert");
    assert.deepEqual(
      findings.map((finding) => [finding.target, finding.severity, finding.probeOk]),
      [
        ["ca.crt", "info", true],
      ],
    );
    assert.equal(findings[0].isCA, true);
  },
});

Deno.test({
  name: "realdata tls.key is never parsed as a certificate",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/cert-exporter-65-tls-key-globbed.yaml`],
    });
    const findings = findingsOf(snapshot, "tls-secret");
    assert.deepEqual(findings.map((finding) => finding.target).sort(), [
      "tls.crt[0]",
      "tls.crt[1]",
    ]);
    assert.ok(findings.every((finding) => finding.probeOk && finding.severity === "info"));
  },
});

Deno.test({
  name: "realdata leaf and intermediate chain to a root-only ca.crt",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/cert-manager-4167-ca-crt-root-only.yaml`],
    });
    const byTarget: Record<string, Finding> = Object.fromEntries(
      findingsOf(snapshot, "my-cert").map((finding) => [finding.target, finding]),
    );
    assert.deepEqual(Object.keys(byTarget).sort(), ["ca.crt", "tls.crt[0]", "tls.crt[1]"]);
    const leaf = byTarget["tls.crt[0]"];
    assert.equal(leaf.chainErrors, undefined, "the chain verifies with ca.crt as the anchor");
    assert.equal(leaf.chainLen, 2);
    assert.equal(leaf.issuerChain?.length, 2);
    assert.ok(Object.values(byTarget).every((finding) => finding.severity === "info"));
  },
});

Deno.test({
  name: "realdata expired serving chain still shows its certificates",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/ssl-exporter-37-expired-target.yaml`],
    });
    const leaf = findingsOf(snapshot, "legacy-shop-tls").find((finding) =>
      finding.target === "tls.crt[0]"
    )!;
    assert.equal(leaf.severity, "critical");
    assert.equal(leaf.findingType, "EXPIRED");
    assert.ok(leaf.subject);
    assert.notEqual(leaf.notAfter, "0001-01-01T00:00:00Z");
  },
});

Deno.test({
  name: "realdata expired caBundle on a Fail webhook is critical",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/istio-46612-expired-validation-webhook-cabundle.yaml`],
    });
    const caBundle = snapshot.findings.find((finding) => finding.target === "caBundle")!;
    assert.equal(caBundle.severity, "critical");
    assert.equal(caBundle.findingType, "CABUNDLE_EXPIRED");
    assert.equal(caBundle.name, "istiod-istio-system/validation.istio.io");
    assert.match(caBundle.notes ?? "", /failurePolicy=Fail/);
  },
});

Deno.test({
  name: "realdata DER caBundle is reported as not PEM with the CA's expiry",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/k8s-61171-cabundle-der-not-pem.yaml`],
    });
    const caBundle = snapshot.findings.find((finding) => finding.target === "caBundle")!;
    assert.equal(caBundle.findingType, "CABUNDLE_INVALID");
    assert.equal(caBundle.severity, "critical");
    assert.match(caBundle.chainErrors?.[0] ?? "", /caBundle is DER, not PEM/);
    assert.notEqual(caBundle.notAfter, "0001-01-01T00:00:00Z");
  },
});

Deno.test({
  name: "realdata APIServices keep their trust mode when unavailable",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/apiservice-failed-discovery-cert-manager-metrics.yaml`],
    });
    const metrics = snapshot.findings.find((finding) =>
      finding.name === "v1beta1.metrics.k8s.io" && finding.target !== "caBundle"
    )!;
    assert.match(metrics.notes ?? "", /insecureSkipTLSVerify=true/);
    const caBundle = snapshot.findings.find((finding) => finding.target === "caBundle")!;
    assert.equal(caBundle.name, "v1beta1.webhook.cert-manager.io");
    assert.equal(caBundle.findingType, "CABUNDLE_EXPIRED");
  },
});

Deno.test({
  name: "realdata every PEM file as tls.crt gives facts or a named error",
  ignore: !hasRealdata,
  async fn() {
    const directory = `${REALDATA}pem/`;
    const files = [...Deno.readDirSync(directory)].map((entry) => entry.name).sort();
    const secretName = (file: string) => file.replace(/\.(pem|der)$/, "").toLowerCase();
    const objects: KubeObject[] = files.map((file) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName(file), namespace: "realdata" },
      type: "kubernetes.io/tls",
      data: { "tls.crt": Buffer.from(Deno.readFileSync(directory + file)).toString("base64") },
    }));
    const snapshot = await scanObjects({ objects });
    assert.deepEqual(snapshot.errors, []);

    for (const file of files) {
      const findings = findingsOf(snapshot, secretName(file));
      assert.ok(findings.length > 0, `${file} gives at least one finding`);
      for (const finding of findings) {
        if (finding.probeOk) {
          assert.notEqual(finding.subject, undefined, file);
          assert.ok(finding.serial, file);
          assert.ok(finding.notAfter, file);
        } else {
          assert.match(
            finding.probeError ?? "",
            new RegExp(`^secret realdata/${secretName(file)}: tls\\.crt \\S`),
            `${file}: the error names the Secret and the key`,
          );
        }
      }
    }

    const typeOf = (file: string) =>
      findingsOf(snapshot, secretName(file)).map((finding) => finding.findingType ?? "healthy")
        .sort();
    assert.deepEqual(typeOf("cfssl-no-pem-armor.pem"), ["CERT_UNREADABLE"]);
    assert.deepEqual(typeOf("cfssl-empty-cert-trailing-garbage.pem"), ["CERT_UNREADABLE"]);
    assert.deepEqual(typeOf("istio-root-ca-bundle-with-graceful-failures.pem"), [
      "CERT_UNREADABLE",
      "healthy",
      "healthy",
      "healthy",
      "healthy",
    ]);
    assert.deepEqual(typeOf("zlint-generalizedAfter2050.pem"), ["NOT_YET_VALID"]);
    assert.deepEqual(typeOf("badssl-wildcard-expired-2015.pem"), ["EXPIRED", "EXPIRED", "healthy"]);

    const facts = (file: string) => findingsOf(snapshot, secretName(file))[0];
    assert.equal(facts("zlint-md5WithRSA.pem").signatureAlgorithm, "MD5-RSA");
    assert.match(facts("zlint-md5WithRSA.pem").postureIssues?.join() ?? "", /MD5-RSA/);
    assert.equal(facts("zlint-mpModulus1024-rsa1024.pem").keySize, 1024);
    assert.match(
      facts("zlint-mpModulus1024-rsa1024.pem").postureIssues?.join() ?? "",
      /RSA key of 1024 bits/,
    );
    assert.equal(facts("linkerd-issuer-p521.pem").keySize, 521);
    assert.equal(facts("limbo-serial-zero.pem").serial, "00");
    assert.match(facts("zlint-serialNumberNegative.pem").serial ?? "", /^-/);
    assert.equal(facts("cfssl-cert.der").serial, "13F433E3D79B1BB9");
    assert.deepEqual(
      findingsOf(snapshot, secretName("cfssl-reverse-order-bundle.pem")).map((finding) =>
        finding.target
      ).sort(),
      ["tls.crt[0]", "tls.crt[1]"],
    );
  },
});

Deno.test({
  name: "realdata linkerd bundle reports each anchor",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/linkerd-5800-bundled-trust-anchors.yaml`],
    });
    const anchors = findingsOf(snapshot, "linkerd-identity-trust-roots")
      .sort((a, b) => (a.target ?? "").localeCompare(b.target ?? ""));
    assert.deepEqual(anchors.map((anchor) => anchor.target), [
      "ca-bundle.crt[0]",
      "ca-bundle.crt[1]",
    ]);
    const [current, old] = anchors;
    assert.equal(current.severity, "info");
    assert.equal(current.source, "mesh.linkerd");
    assert.equal(old.severity, "warn");
    assert.equal(old.findingType, "SUPERSEDED_CA");
    assert.equal(old.notAfter, "1990-01-01T01:01:11Z");
    assert.equal(old.subject, current.subject);
    assert.match(old.notes ?? "", new RegExp(`superseded by serial ${current.serial}`));
    assert.ok(old.serial, "the old anchor is named by its serial");
    assert.notEqual(old.serial, current.serial);

    const [issuer] = findingsOf(snapshot, "linkerd-identity-issuer");
    assert.equal(issuer.severity, "info");
    assert.equal(issuer.target, "crt.pem");
    assert.equal(issuer.chainErrors, undefined, "the issuer chains to the current anchor");
    assert.deepEqual(issuer.issuerChain, [current.subject]);
  },
});

Deno.test({
  name: "realdata Ready certificate with expired Secret",
  ignore: !hasRealdata,
  async fn() {
    const snapshot = await scanObjects({
      manifests: [`${REALDATA}bugs/cert-manager-7895-ready-true-but-expired.yaml`],
    });
    const certificate = snapshot.findings.find((finding) => finding.source === "certmanager")!;
    assert.equal(certificate.name, "shop");
    assert.equal(certificate.severity, "critical");
    assert.equal(certificate.findingType, "EXPIRED");
    assert.equal(certificate.notAfter, "2025-08-02T13:50:04Z");
    assert.match(
      certificate.notes ?? "",
      /reports Ready=True, but the certificate in secret shop\/shop-tls expired/,
    );

    const secret = snapshot.findings.find((finding) =>
      finding.source === "k8s.tlsSecret" && finding.target === "tls.crt[0]"
    )!;
    assert.equal(secret.severity, "critical");
    assert.equal(secret.findingType, "EXPIRED");

    const renewal = snapshot.findings.find((finding) => finding.source === "certmanager.renewal")!;
    assert.equal(renewal.severity, "critical");
    assert.equal(renewal.findingType, "RENEWAL_STALLED");
    assert.match(
      renewal.probeError ?? "",
      /renewal was due 2025-07-03T13:50:04Z and has not completed/,
    );
    assert.match(renewal.remediation ?? "", /cmctl status certificate shop -n shop/);
  },
});

Deno.test({
  name: "realdata istio CA material chains healthily",
  ignore: !hasRealdata,
  async fn() {
    const cacerts = await scanObjects({
      manifests: [`${REALDATA}k8s/mesh/istio/cacerts-plugin-ca-samples.yaml`],
    });
    const caCert = cacerts.findings.find((finding) => finding.target === "ca-cert.pem")!;
    assert.equal(caCert.source, "mesh.istio");
    assert.equal(caCert.severity, "info");
    assert.equal(caCert.chainErrors, undefined);
    assert.equal(caCert.issuerChain?.length, 1);
    assert.ok(caCert.notAfter.startsWith("2117-"), caCert.notAfter);

    const selfSigned = await scanObjects({
      manifests: [`${REALDATA}k8s/mesh/istio/istio-ca-secret-selfsigned.yaml`],
    });
    assert.deepEqual(
      selfSigned.findings.filter((finding) => finding.source === "mesh.istio")
        .map((finding) => [finding.target, finding.severity]).sort(),
      [["ca-cert.pem", "info"], ["root-cert.pem", "info"]],
      "empty cert-chain.pem and key.pem are absent, not errors",
    );

    const config = { ...defaultConfig(), istioNamespace: "default" };
    const rootConfigMap = await scanObjects({
      manifests: [`${REALDATA}k8s/mesh/istio/istio-ca-root-cert-configmap.yaml`],
      config,
    });
    const root = rootConfigMap.findings.find((finding) => finding.source === "mesh.istio")!;
    assert.equal(root.name, "istio-ca-root-cert");
    assert.equal(root.target, "root-cert.pem");
    assert.equal(root.isCA, true);
  },
});
