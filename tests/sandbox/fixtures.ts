/**
 * Builders for the Kubernetes objects that tests and the demo load into the sandbox, and the
 * demo cluster itself. Certificates are generated at call time, so fixtures never expire.
 *
 * @module
 */
import { daysFromNow, issueCertificate, type IssuedCertificate } from "../support/pki.ts";
import { freePort, TLS_BACKEND_API_VERSION, TLS_BACKEND_KIND } from "./backends.ts";
import type { KubeObject } from "./resources.ts";

/** Port a webhook or APIService service reference uses when none is given, as in Kubernetes. */
export const DEFAULT_SERVICE_PORT = 443;

/** Encodes a UTF-8 string as base64, the form of Secret `data` and `caBundle` fields. */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Builds a Namespace. */
export function namespace(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

/** Options of {@linkcode tlsSecret}. */
export interface TlsSecretOptions {
  namespace: string;
  name: string;
  /** PEM for `tls.crt`, one certificate or a chain. */
  certPem: string;
  /** PEM for `tls.key`. */
  keyPem?: string;
  /** PEM for `ca.crt`. */
  caPem?: string;
  /** @default {"kubernetes.io/tls"} */
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Builds a Secret with base64 `tls.crt`, and `tls.key` and `ca.crt` when given. */
export function tlsSecret(options: TlsSecretOptions): KubeObject {
  const data: Record<string, string> = { "tls.crt": base64(options.certPem) };
  if (options.keyPem !== undefined) data["tls.key"] = base64(options.keyPem);
  if (options.caPem !== undefined) data["ca.crt"] = base64(options.caPem);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: withLabels({ name: options.name, namespace: options.namespace }, options),
    type: options.type ?? "kubernetes.io/tls",
    data,
  };
}

/** Builds a ClusterIP Service exposing one TCP port named `https`. */
export function service(options: { namespace: string; name: string; port: number }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": options.name },
      ports: [{ name: "https", port: options.port, protocol: "TCP", targetPort: options.port }],
    },
  };
}

/** A service reference in a webhook clientConfig or an APIService spec. */
export interface ServiceReference {
  namespace: string;
  name: string;
  /** @default {443} */
  port?: number;
  path?: string;
}

/** One webhook entry of a webhook configuration. */
export interface WebhookOptions {
  name: string;
  service?: ServiceReference;
  url?: string;
  /** PEM placed base64-encoded in `clientConfig.caBundle`. */
  caBundlePem?: string;
  failurePolicy: "Fail" | "Ignore";
}

/** Options of {@linkcode validatingWebhook} and {@linkcode mutatingWebhook}. */
export interface WebhookConfigurationOptions {
  name: string;
  webhooks: WebhookOptions[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Builds a ValidatingWebhookConfiguration. */
export function validatingWebhook(options: WebhookConfigurationOptions): KubeObject {
  return webhookConfiguration("ValidatingWebhookConfiguration", options);
}

/** Builds a MutatingWebhookConfiguration. */
export function mutatingWebhook(options: WebhookConfigurationOptions): KubeObject {
  return webhookConfiguration("MutatingWebhookConfiguration", options);
}

function webhookConfiguration(kind: string, options: WebhookConfigurationOptions): KubeObject {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: withLabels({ name: options.name }, options),
    webhooks: options.webhooks.map((webhook) => ({
      name: webhook.name,
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: webhook.failurePolicy,
      matchPolicy: "Equivalent",
      timeoutSeconds: 10,
      clientConfig: clientConfig(webhook),
      rules: [{
        apiGroups: ["*"],
        apiVersions: ["*"],
        operations: ["CREATE", "UPDATE"],
        resources: ["*"],
        scope: "*",
      }],
    })),
  };
}

function clientConfig(webhook: WebhookOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (webhook.service) config.service = serviceReference(webhook.service);
  if (webhook.url !== undefined) config.url = webhook.url;
  if (webhook.caBundlePem !== undefined) config.caBundle = base64(webhook.caBundlePem);
  return config;
}

function serviceReference(reference: ServiceReference): Record<string, unknown> {
  return {
    namespace: reference.namespace,
    name: reference.name,
    port: reference.port ?? DEFAULT_SERVICE_PORT,
    ...(reference.path !== undefined ? { path: reference.path } : {}),
  };
}

/** Options of {@linkcode apiService}. */
export interface ApiServiceOptions {
  /** `<version>.<group>`, e.g. `v1beta1.metrics.k8s.io`. */
  name: string;
  /** Omitted for a local APIService served by kube-apiserver itself. */
  service?: ServiceReference;
  caBundlePem?: string;
  insecureSkipTLSVerify?: boolean;
}

/** Builds an Available APIService whose group and version come from its name. */
export function apiService(options: ApiServiceOptions): KubeObject {
  const dot = options.name.indexOf(".");
  const version = options.name.slice(0, dot);
  const group = options.name.slice(dot + 1);
  const spec: Record<string, unknown> = {
    group,
    version,
    groupPriorityMinimum: 100,
    versionPriority: 100,
  };
  if (options.service) spec.service = serviceReference(options.service);
  if (options.caBundlePem !== undefined) spec.caBundle = base64(options.caBundlePem);
  if (options.insecureSkipTLSVerify !== undefined) {
    spec.insecureSkipTLSVerify = options.insecureSkipTLSVerify;
  }
  return {
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: options.name },
    spec,
    status: {
      conditions: [{
        type: "Available",
        status: "True",
        reason: options.service ? "Passed" : "Local",
        message: options.service ? "all checks passed" : "Local APIServices are always available",
      }],
    },
  };
}

/** Options of {@linkcode conversionCrd}. */
export interface ConversionCrdOptions {
  /** Group of the custom resource, e.g. `stable.example.com`. */
  group: string;
  /** Kind of the custom resource, e.g. `CronTab`; the plural is its lowercase form plus `s`. */
  kind: string;
  service?: ServiceReference;
  url?: string;
  caBundlePem?: string;
}

/**
 * Builds a namespaced CustomResourceDefinition with versions v1 (storage) and v1beta1, converted
 * by a webhook (`spec.conversion.strategy: Webhook`) at the given service or url.
 */
export function conversionCrd(options: ConversionCrdOptions): KubeObject {
  const plural = `${options.kind.toLowerCase()}s`;
  const schema = {
    openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  };
  const webhookConfig: Record<string, unknown> = {};
  if (options.service) webhookConfig.service = serviceReference(options.service);
  if (options.url !== undefined) webhookConfig.url = options.url;
  if (options.caBundlePem !== undefined) webhookConfig.caBundle = base64(options.caBundlePem);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${options.group}` },
    spec: {
      group: options.group,
      scope: "Namespaced",
      names: { kind: options.kind, plural, singular: options.kind.toLowerCase() },
      versions: [
        { name: "v1", served: true, storage: true, schema },
        { name: "v1beta1", served: true, storage: false, schema },
      ],
      conversion: {
        strategy: "Webhook",
        webhook: { conversionReviewVersions: ["v1"], clientConfig: webhookConfig },
      },
    },
  };
}

/** Options of {@linkcode ingress}. */
export interface IngressOptions {
  namespace: string;
  name: string;
  tls: { hosts: string[]; secretName: string }[];
}

/** Builds an Ingress with the given TLS entries and one rule per host to a `web` backend. */
export function ingress(options: IngressOptions): KubeObject {
  const hosts = options.tls.flatMap((entry) => entry.hosts);
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      ingressClassName: "nginx",
      tls: options.tls.map((entry) => ({ hosts: [...entry.hosts], secretName: entry.secretName })),
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: [{
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: "web", port: { number: 80 } } },
          }],
        },
      })),
    },
  };
}

/** Options of {@linkcode backendPod}. */
export interface BackendPodOptions {
  namespace: string;
  name: string;
  /** Name of the TLSBackend every forwarded port of the Pod leads to. */
  backend: string;
  containerPort: number;
  labels?: Record<string, string>;
}

/**
 * Builds a Running, Ready Pod whose ports the sandbox port-forwards to a TLSBackend, through the
 * `sandbox.trustwatch.dev/tls-backend` annotation.
 */
export function backendPod(options: BackendPodOptions): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { ...options.labels },
      annotations: { "sandbox.trustwatch.dev/tls-backend": options.backend },
    },
    spec: {
      containers: [{
        name: "server",
        image: "registry.example/server:1.0",
        ports: [{ name: "https", containerPort: options.containerPort, protocol: "TCP" }],
      }],
    },
    status: {
      phase: "Running",
      podIP: "127.0.0.1",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [{
        name: "server",
        image: "registry.example/server:1.0",
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: "2024-01-01T00:00:00Z" } },
      }],
    },
  };
}

/** Options of {@linkcode endpointSlice}. */
export interface EndpointSliceOptions {
  namespace: string;
  /** Service the slice belongs to (label `kubernetes.io/service-name`). */
  service: string;
  /** @default {`<service>-abcde`} */
  name?: string;
  /** Endpoint (target) port. */
  port: number;
  /** Must equal the Service port's name. @default {"https"} */
  portName?: string;
  /** Endpoints: a Pod name for a Pod endpoint, none for an address without a Pod. */
  endpoints: { pod?: string; ready: boolean; address?: string }[];
}

/** Builds a discovery.k8s.io/v1 EndpointSlice for a Service. */
export function endpointSlice(options: EndpointSliceOptions): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: options.name ?? `${options.service}-abcde`,
      namespace: options.namespace,
      labels: { "kubernetes.io/service-name": options.service },
    },
    addressType: "IPv4",
    ports: [{ name: options.portName ?? "https", port: options.port, protocol: "TCP" }],
    endpoints: options.endpoints.map((endpoint) => ({
      addresses: [endpoint.address ?? "127.0.0.1"],
      conditions: { ready: endpoint.ready },
      ...(endpoint.pod
        ? { targetRef: { kind: "Pod", namespace: options.namespace, name: endpoint.pod } }
        : {}),
    })),
  };
}

/** Options of {@linkcode tlsBackend}. */
export interface TlsBackendOptions {
  name: string;
  hosts: string[];
  /** Loopback port, usually from freePort(). */
  port: number;
  /** Served chain as PEM, leaf first. */
  chainPem: string;
  keyPem: string;
  /** Delay before the server reads a new connection, in milliseconds. @default {0} */
  handshakeDelayMs?: number;
}

/** Builds a sandbox TLSBackend object: a loopback TLS server the sandbox starts. */
export function tlsBackend(options: TlsBackendOptions): KubeObject {
  return {
    apiVersion: TLS_BACKEND_API_VERSION,
    kind: TLS_BACKEND_KIND,
    metadata: { name: options.name },
    spec: {
      hosts: [...options.hosts],
      port: options.port,
      certificateChain: options.chainPem,
      privateKey: options.keyPem,
      ...(options.handshakeDelayMs ? { handshakeDelayMs: options.handshakeDelayMs } : {}),
    },
  };
}

function withLabels(
  metadata: KubeObject["metadata"],
  options: { labels?: Record<string, string>; annotations?: Record<string, string> },
): KubeObject["metadata"] {
  if (options.labels) metadata.labels = { ...options.labels };
  if (options.annotations) metadata.annotations = { ...options.annotations };
  return metadata;
}

/** The external endpoint of the demo cluster. */
export interface DemoExternalEndpoint {
  /** `https://localhost:PORT`. */
  url: string;
  port: number;
  /** The TLSBackend serving the endpoint, also included in `objects`. */
  backend: KubeObject;
  /** PEM of the CA that issued the endpoint's certificate. */
  caPem: string;
}

/** A service in the demo cluster with its own CA and a TLS backend for `<name>.<namespace>.svc`. */
interface DemoService {
  namespace: string;
  name: string;
  port: number;
  ca: IssuedCertificate;
  objects: KubeObject[];
}

async function demoService(
  namespaceName: string,
  name: string,
  leafValidity: { notBefore?: Date; notAfter: Date },
): Promise<DemoService> {
  const port = await freePort();
  const host = `${name}.${namespaceName}.svc`;
  const ca = await issueCertificate({
    commonName: `${name} CA`,
    isCA: true,
    notAfter: daysFromNow(3650),
  });
  const leaf = await issueCertificate({
    commonName: host,
    dnsNames: [host, `${host}.cluster.local`, `${name}.${namespaceName}`],
    issuer: ca,
    notBefore: leafValidity.notBefore,
    notAfter: leafValidity.notAfter,
  });
  return {
    namespace: namespaceName,
    name,
    port,
    ca,
    objects: [
      service({ namespace: namespaceName, name, port }),
      tlsBackend({
        name: `${namespaceName}-${name}`,
        hosts: [host],
        port,
        chainPem: leaf.certPem,
        keyPem: leaf.keyPem,
      }),
    ],
  };
}

async function demoSecret(
  namespaceName: string,
  name: string,
  hosts: string[],
  notAfterDays: number,
  issuer: IssuedCertificate,
): Promise<KubeObject> {
  const leaf = await issueCertificate({
    commonName: hosts[0],
    dnsNames: hosts,
    issuer,
    notBefore: daysFromNow(Math.min(-1, notAfterDays - 90)),
    notAfter: daysFromNow(notAfterDays),
  });
  return tlsSecret({
    namespace: namespaceName,
    name,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    caPem: issuer.certPem,
  });
}

/**
 * Builds the demo cluster: five namespaces, webhooks and APIServices with TLS backends in every
 * state (healthy, expired, expiring, unverified), TLS Secrets from healthy to expired, Ingresses
 * with a present and a missing Secret, and one external endpoint on `https://localhost:PORT`.
 * Backend hosts are `<service>.<namespace>.svc`, and each Service port equals its backend port.
 */
export async function demoFixtures(): Promise<{
  objects: KubeObject[];
  external: DemoExternalEndpoint;
}> {
  const namespaces = ["cert-manager", "payments", "monitoring", "ingress-nginx", "kyverno"]
    .map(namespace);

  const certManagerWebhook = await demoService("cert-manager", "cert-manager-webhook", {
    notAfter: daysFromNow(300),
  });
  const kyvernoService = await demoService("kyverno", "kyverno-svc", {
    notBefore: daysFromNow(-93),
    notAfter: daysFromNow(-3),
  });
  const prometheusOperator = await demoService("monitoring", "prometheus-operator", {
    notAfter: daysFromNow(20),
  });
  const metricsServer = await demoService("monitoring", "metrics-server", {
    notAfter: daysFromNow(365),
  });

  const webhooks = [
    validatingWebhook({
      name: "cert-manager-webhook",
      webhooks: [{
        name: "webhook.cert-manager.io",
        service: { ...serviceOf(certManagerWebhook), path: "/validate" },
        caBundlePem: certManagerWebhook.ca.certPem,
        failurePolicy: "Fail",
      }],
    }),
    mutatingWebhook({
      name: "kyverno-resource-mutating-webhook-cfg",
      webhooks: [{
        name: "mutate.kyverno.svc-fail",
        service: { ...serviceOf(kyvernoService), path: "/mutate/fail" },
        caBundlePem: kyvernoService.ca.certPem,
        failurePolicy: "Fail",
      }],
    }),
    validatingWebhook({
      name: "prometheus-operator-admission",
      webhooks: [{
        name: "prometheusrulevalidate.monitoring.coreos.com",
        service: { ...serviceOf(prometheusOperator), path: "/admission-prometheusrules/validate" },
        caBundlePem: prometheusOperator.ca.certPem,
        failurePolicy: "Ignore",
      }],
    }),
  ];

  const apiServices = [
    apiService({
      name: "v1beta1.metrics.k8s.io",
      service: serviceOf(metricsServer),
      insecureSkipTLSVerify: true,
    }),
    apiService({ name: "v1.apps" }),
  ];

  const paymentsCa = await issueCertificate({
    commonName: "payments issuer CA",
    isCA: true,
    notAfter: daysFromNow(3650),
  });
  const secrets = [
    await demoSecret("payments", "api-tls", ["api.payments.example.com"], 200, paymentsCa),
    await demoSecret("payments", "checkout-tls", ["checkout.payments.example.com"], 20, paymentsCa),
    await demoSecret("payments", "ledger-tls", ["ledger.payments.example.com"], 7, paymentsCa),
    await demoSecret("monitoring", "grafana-tls", ["grafana.example.com"], -10, paymentsCa),
    helmReleaseSecret("monitoring", "kube-prometheus-stack", 3),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "upstream-ca", namespace: "ingress-nginx" },
      type: "Opaque",
      data: { "ca.crt": base64(paymentsCa.certPem) },
    },
  ];

  const ingresses = [
    ingress({
      namespace: "payments",
      name: "api",
      tls: [{ hosts: ["api.payments.example.com"], secretName: "api-tls" }],
    }),
    ingress({
      namespace: "payments",
      name: "legacy-checkout",
      tls: [{ hosts: ["legacy.payments.example.com"], secretName: "legacy-checkout-tls" }],
    }),
  ];

  const external = await demoExternalEndpoint();

  return {
    objects: [
      ...namespaces,
      ...[certManagerWebhook, kyvernoService, prometheusOperator, metricsServer]
        .flatMap((demo) => demo.objects),
      ...webhooks,
      ...apiServices,
      ...secrets,
      ...ingresses,
      external.backend,
    ],
    external,
  };
}

function serviceOf(demo: DemoService): ServiceReference {
  return { namespace: demo.namespace, name: demo.name, port: demo.port };
}

function helmReleaseSecret(namespaceName: string, release: string, revision: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `sh.helm.release.v1.${release}.v${revision}`,
      namespace: namespaceName,
      labels: { name: release, owner: "helm", status: "deployed", version: String(revision) },
    },
    type: "helm.sh/release.v1",
    // Helm stores a gzipped, base64-encoded release record. Only the type matters here.
    data: { release: base64("H4sIAAAAAAAC/+yRwU7DMBBE7/mKlc9tSeIkTXLkA7hwRDnYm02wcOzI3lSC") },
  };
}

async function demoExternalEndpoint(): Promise<DemoExternalEndpoint> {
  const port = await freePort();
  const ca = await issueCertificate({
    commonName: "demo external CA",
    isCA: true,
    notAfter: daysFromNow(3650),
  });
  const leaf = await issueCertificate({
    commonName: "localhost",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    issuer: ca,
    notAfter: daysFromNow(90),
  });
  const backend = tlsBackend({
    name: "external-localhost",
    hosts: ["localhost"],
    port,
    chainPem: leaf.certPem,
    keyPem: leaf.keyPem,
  });
  return { url: `https://localhost:${port}`, port, backend, caPem: ca.certPem };
}
