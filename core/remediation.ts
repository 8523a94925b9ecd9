/**
 * One-line remediation for a finding: the concrete next step, with the kubectl, cmctl or kubeadm
 * command and the real object names filled in where such a command exists.
 *
 * @module
 */
import { MIN_RSA_KEY_BITS } from "./analyze/posture.ts";
import type { Finding } from "./model.ts";
import { formatEndpoint } from "./probe/prober.ts";
import { type EndpointTarget, type NamespacedName, secretOf, type Target } from "./target.ts";

/** Annotation cert-manager sets on the Secrets it issues, naming their Certificate. */
export const CERT_MANAGER_CERTIFICATE_ANNOTATION = "cert-manager.io/certificate-name";

/** Annotation of cert-manager's cainjector that names the Certificate whose CA fills a caBundle. */
export const CERT_MANAGER_INJECT_ANNOTATION = "cert-manager.io/inject-ca-from";

/** Returns the next step for a finding that is not healthy, naming the objects involved. */
export function remediationFor(finding: Finding, target: Target): string {
  switch (finding.findingType) {
    case "EXPIRED":
    case "EXPIRING":
      return renewStep(finding, target);
    case "NOT_YET_VALID":
      return `Check the clock of the issuer of ${describe(target)} and reissue the certificate ` +
        `with a notBefore in the past; ${inspectStep(target)}`;
    case "SUPERSEDED_CA":
      return `Remove the old CA (serial ${finding.serial ?? "unknown"}) from ${
        describe(target)
      } once every client trusts the new one: ${editCommand(target)}`;
    case "INTERMEDIATE_EXPIRED":
      return `Replace the expired intermediate in the chain of ${describe(target)} with the ` +
        `issuer's current one and reload the server; ${inspectStep(target)}`;
    case "PROBE_FAILED":
      return probeFailedStep(target);
    case "CABUNDLE_INVALID":
      return `Set the caBundle of ${describe(target)} to PEM CA certificates, base64-encoded ` +
        `once: ${editCommand(target)}`;
    case "CABUNDLE_MISMATCH":
      return `Put the CA that issued the certificate served by ${describe(target)} into its ` +
        `caBundle (or serve the missing intermediates), then check again: ${editCommand(target)}`;
    case "CABUNDLE_EXPIRED":
      return `Replace the expired CA in the caBundle of ${describe(target)} with the current one ` +
        `and reissue the serving certificate from it if needed: ${editCommand(target)}`;
    case "CHAIN_INVALID":
      return chainStep(target);
    case "NAME_MISMATCH":
      return `Reissue the certificate of ${describe(target)} with a SAN for ${
        expectedNames(target)
      }${certManagerHint(target, "add the names to spec.dnsNames of the Certificate")}`;
    case "SECRET_NOT_FOUND":
      return secretNotFoundStep(finding, target);
    case "READ_FORBIDDEN":
    case "READ_FAILED":
      return readFailedStep(finding, target);
    case "CERT_MISSING":
    case "CERT_UNREADABLE":
      return unreadableStep(finding, target);
    case "INVALID_URL":
      return `Set clientConfig.url of ${describe(target)} to an https:// URL: ${
        editCommand(target)
      }`;
    case "INVALID_CLIENT_CONFIG":
      return `Fix ${finding.target ?? "the clientConfig"} of ${
        describe(target)
      } to the value probeError names: ${editCommand(target)}`;
    case "INSECURE_SKIP_VERIFY":
      return insecureSkipStep(target);
    case "WEAK_TLS_VERSION":
      return `Configure ${describe(target)} to accept TLS 1.2 or later only ` +
        `(Kubernetes components: --tls-min-version=VersionTLS12)`;
    case "WEAK_KEY":
      return `Reissue the certificate of ${
        describe(target)
      } with an RSA key of at least ${MIN_RSA_KEY_BITS} ` +
        `bits or an ECDSA P-256 key${
          certManagerHint(target, "set spec.privateKey.algorithm: ECDSA in the Certificate")
        }`;
    case "WEAK_SIGNATURE":
      return `Reissue the certificate of ${describe(target)} with a SHA-256 signature; ` +
        inspectStep(target);
    case "STALE_SERVING_CERT":
      return staleServingStep(finding, target);
    case "ANNOTATION_INVALID":
      return `Fix the trustwatch.dev/* annotations of ${describe(target)}: ${editCommand(target)}`;
    case "NO_ENDPOINTS":
      return `Check that ${describe(target)} has running pods with an IP: kubectl get pods -n ${
        finding.namespace ?? "<namespace>"
      } -o wide`;
    case "REF_NOT_PERMITTED":
      return `Create a ReferenceGrant in the Secret's namespace that allows Gateways from ${
        finding.namespace ?? "this namespace"
      } to reference Secrets, or move the Secret; ${inspectStep(target)}`;
    case "REF_INVALID":
      return `Point the certificateRefs of ${
        describe(target)
      } at a core Secret (group "", kind Secret): ${editCommand(target)}`;
    case "RENEWAL_STALLED":
    case "REQUEST_PENDING":
    case "REQUEST_FAILED":
      return `Find why cert-manager cannot issue ${describe(target)}: cmctl status certificate ${
        target.certificateRef?.name ?? finding.name
      } -n ${finding.namespace ?? "<namespace>"}, and check its issuer`;
    case "CHALLENGE_FAILED":
      return `Fix the ACME solver of ${
        describe(target)
      } (DNS record, ingress or firewall) and let ` +
        `cert-manager retry; ${inspectStep(target)}`;
    case "REQUEST_DENIED":
      return `Change the approval policy or the Certificate spec so the request ${
        describe(target)
      } ` +
        `is approved; ${inspectStep(target)}`;
    case "REQUEST_INVALID":
      return `Fix the CSR or issuerRef behind ${
        describe(target)
      } so cert-manager creates a valid ` +
        `request; ${inspectStep(target)}`;
    case "EXCESSIVE_ROTATION":
      return `Raise spec.duration of the CA Certificate ${
        describe(target)
      }: every rotation of a CA ` +
        `must reach every client's trust bundle in time; ${editCommand(target)}`;
    case "READY_BUT_EXPIRED":
      return `Force a renewal: cmctl renew ${target.certificateRef?.name ?? finding.name} -n ${
        finding.namespace ?? "<namespace>"
      }, then read cert-manager's logs for why it stopped renewing`;
    default:
      return `Inspect ${describe(target)}: ${inspectCommand(target) ?? "see the notes"}`;
  }
}

function staleServingStep(finding: Finding, target: Target): string {
  const secret = target.secretRef;
  const stored = secret ? `Secret ${secret.namespace}/${secret.name}` : "its Secret";
  const workload = target.ref && target.ref.resource !== "secret"
    ? `kubectl rollout restart ${target.ref.resource} ${target.ref.name}${
      namespaceFlag(target.ref.namespace)
    }`
    : "restart the workload";
  return `The server at ${finding.target} still serves an older certificate than ${stored}: ` +
    `${workload} so it loads the renewed one`;
}

function renewStep(finding: Finding, target: Target): string {
  const secret = secretOf(target);
  if (target.kind === "material" && target.caBundle) {
    return `Replace the expiring CA in the caBundle of ${describe(target)}: ${
      editCommand(target)
    } (if cert-manager's cainjector fills it, renew the Certificate named by its ` +
      `${CERT_MANAGER_INJECT_ANNOTATION} annotation)`;
  }
  if (secret && finding.target?.startsWith("ca.crt")) {
    return `Replace the CA in ca.crt of Secret ${secret.namespace}/${secret.name} with the ` +
      `issuer's current CA; inspect with ${getSecretCommand(secret)}`;
  }
  if (secret && target.certificateRef) {
    const certificate = target.certificateRef;
    return `Renew Certificate ${certificate.namespace}/${certificate.name}, which fills Secret ` +
      `${secret.namespace}/${secret.name}: cmctl renew ${certificate.name} -n ${certificate.namespace}`;
  }
  if (secret) {
    return `Renew the certificate in Secret ${secret.namespace}/${secret.name}: with ` +
      `cert-manager, ${cmctlRenewCommand(secret)}; otherwise ${replaceSecretCommand(secret)}`;
  }
  if (target.kind === "endpoint") return renewEndpointStep(target);
  return `Renew the certificate of ${describe(target)}; ${inspectStep(target)}`;
}

function renewEndpointStep(target: EndpointTarget): string {
  if (target.source === "k8s.apiserver") {
    return "Renew the API server's serving certificate: on kubeadm clusters run " +
      "kubeadm certs renew apiserver on every control-plane node and restart kube-apiserver " +
      "(check with kubeadm certs check-expiration); managed clusters rotate it through the provider";
  }
  const service = serviceOf(target);
  if (service) {
    return `Renew the serving certificate of service ${service.namespace}/${service.name} ` +
      `and restart its pods so they load it; find them with ${endpointSlicesCommand(service)}`;
  }
  return `Renew the certificate served at ${endpointOf(target)} and reload the server`;
}

function probeFailedStep(target: Target): string {
  if (target.kind !== "endpoint") return `Inspect ${describe(target)}: ${inspectStep(target)}`;
  const service = serviceOf(target);
  if (service) {
    return `Check that service ${service.namespace}/${service.name} has ready endpoints ` +
      `serving TLS on port ${target.endpoint.port}: ${endpointSlicesCommand(service)}`;
  }
  const sni = target.endpoint.sni ?? target.endpoint.host;
  return `Check that ${endpointOf(target)} is reachable from here and serves TLS: ` +
    `openssl s_client -connect ${endpointOf(target)} -servername ${sni}`;
}

function chainStep(target: Target): string {
  if (target.kind === "material") {
    const secret = secretOf(target);
    if (secret) {
      return `Put the full chain into tls.crt of Secret ${secret.namespace}/${secret.name} and ` +
        `the CA that issued it into ca.crt; inspect with ${getSecretCommand(secret)}`;
    }
    return `Make the certificates in ${describe(target)} chain to a trusted CA; ${
      inspectStep(target)
    }`;
  }
  if (target.kind === "endpoint" && target.trust.kind === "system") {
    return `Serve the full chain, up to a publicly trusted root, at ${endpointOf(target)}`;
  }
  return `Serve the intermediates at ${
    endpointOf(target as EndpointTarget)
  } and make the caBundle of ${describe(target)} contain the CA that issued the serving ` +
    `certificate: ${editCommand(target)}`;
}

function secretNotFoundStep(finding: Finding, target: Target): string {
  const name = target.ref?.resource === "secret" ? target.ref.name : finding.target;
  const namespace = target.ref?.namespace ?? finding.namespace;
  const pointer = target.source === "k8s.ingressTLS"
    ? `spec.tls[].secretName of ingress ${namespace}/${target.name} ` +
      `(kubectl edit ingress ${target.name} -n ${namespace})`
    : "the secretName that points at it";
  return `Create Secret ${namespace}/${name}, or fix ${pointer}; check with ` +
    `kubectl get secret ${name} -n ${namespace}`;
}

/** RBAC resource names of the kubectl resources whose reads can fail, where not `<resource>s`. */
const RBAC_RESOURCES: Record<string, string> = {
  referencegrant: "referencegrants.gateway.networking.k8s.io",
};

/**
 * Steps for a read that failed; `target.ref` is the object that could not be read, with an empty
 * name when its namespace's list failed.
 */
function readFailedStep(finding: Finding, target: Target): string {
  const ref = target.ref;
  if (!ref?.namespace) return `Inspect ${describe(target)}: see the notes`;
  const verb = ref.name === "" ? "list" : "get";
  const resource = RBAC_RESOURCES[ref.resource] ?? `${ref.resource}s`;
  if (finding.findingType === "READ_FAILED") {
    const object = ref.name === "" ? resource : `${ref.resource} ${ref.name}`;
    return `Check that the API server answers, then scan again; read it with kubectl get ${object} ` +
      `-n ${ref.namespace}`;
  }
  return `Grant the credentials trustwatch uses ${verb} on ${resource} in namespace ` +
    `${ref.namespace} (Role and RoleBinding), then check with ` +
    `kubectl auth can-i ${verb} ${resource} -n ${ref.namespace}`;
}

function unreadableStep(finding: Finding, target: Target): string {
  const secret = secretOf(target);
  const key = finding.target?.replace(/\[\d+\]$/, "");
  if (secret) {
    return `Put a PEM certificate into ${
      key ?? "tls.crt"
    } of Secret ${secret.namespace}/${secret.name}: ${replaceSecretCommand(secret)}`;
  }
  return `Put a PEM certificate into ${describe(target)}${key ? ` key ${key}` : ""}; ${
    inspectStep(target)
  }`;
}

function insecureSkipStep(target: Target): string {
  if (target.source === "k8s.apiserver") {
    const context = noteValue(target, "context");
    return `Remove insecure-skip-tls-verify from the cluster of kubeconfig context ${
      context ?? "in use"
    } and set certificate-authority to the API server's CA`;
  }
  return `Replace insecureSkipTLSVerify: true with a caBundle in ${describe(target)}: ${
    editCommand(target)
  }`;
}

/** Names the object or endpoint of a target for a sentence, e.g. `Secret payments/api-tls`. */
function describe(target: Target): string {
  const ref = target.ref;
  const secret = secretOf(target);
  if (target.kind === "material" && target.caBundle && ref) {
    return `${ref.resource} ${qualified(ref.namespace, ref.name)}${webhookSuffix(target)}`;
  }
  if (secret) return `Secret ${secret.namespace}/${secret.name}`;
  if (target.source === "k8s.apiserver") return "the API server";
  if (ref && ref.resource !== "secret") {
    return `${ref.resource} ${qualified(ref.namespace, ref.name)}${webhookSuffix(target)}`;
  }
  if (target.kind === "endpoint") return endpointOf(target);
  return qualified(target.namespace, target.name);
}

/** Names the webhook inside a webhook configuration, whose target name is `config/webhook`. */
function webhookSuffix(target: Target): string {
  // CRD conversion webhooks share the source but are named `crd/<crd>`, with no webhook inside.
  if (target.source !== "k8s.webhook" || !target.ref?.resource.endsWith("webhookconfiguration")) {
    return "";
  }
  const slash = target.name.indexOf("/");
  return slash === -1 ? "" : ` (webhook ${target.name.slice(slash + 1)})`;
}

function qualified(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function inspectStep(target: Target): string {
  const command = inspectCommand(target);
  return command ? `inspect with ${command}` : `inspect ${describe(target)}`;
}

function inspectCommand(target: Target): string | undefined {
  const secret = secretOf(target);
  if (secret) return getSecretCommand(secret);
  const ref = target.ref;
  if (!ref) {
    if (target.kind !== "endpoint") return undefined;
    const sni = target.endpoint.sni ?? target.endpoint.host;
    return `openssl s_client -connect ${endpointOf(target)} -servername ${sni} -showcerts`;
  }
  return `kubectl get ${ref.resource} ${ref.name}${namespaceFlag(ref.namespace)} -o yaml`;
}

function editCommand(target: Target): string {
  const ref = target.ref;
  if (!ref) return inspectCommand(target) ?? `inspect ${describe(target)}`;
  return `kubectl edit ${ref.resource} ${ref.name}${namespaceFlag(ref.namespace)}`;
}

function namespaceFlag(namespace: string | undefined): string {
  return namespace ? ` -n ${namespace}` : "";
}

/** Returns the Service behind an endpoint the API server reaches as `<name>.<namespace>.svc`. */
function serviceOf(target: EndpointTarget): NamespacedName | undefined {
  const match = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc$/.exec(target.endpoint.host);
  return match ? { namespace: match[2], name: match[1] } : undefined;
}

function endpointOf(target: EndpointTarget): string {
  return formatEndpoint(target.endpoint);
}

function endpointSlicesCommand(service: NamespacedName): string {
  return `kubectl get endpointslices -n ${service.namespace} ` +
    `-l kubernetes.io/service-name=${service.name}`;
}

function getSecretCommand(secret: NamespacedName): string {
  return `kubectl get secret ${secret.name} -n ${secret.namespace} -o yaml`;
}

function cmctlRenewCommand(secret: NamespacedName): string {
  const annotationPath = CERT_MANAGER_CERTIFICATE_ANNOTATION.replaceAll(".", "\\.");
  return `cmctl renew -n ${secret.namespace} $(kubectl get secret ${secret.name} -n ${secret.namespace} ` +
    `-o jsonpath='{.metadata.annotations.${annotationPath}}')`;
}

function replaceSecretCommand(secret: NamespacedName): string {
  return `kubectl create secret tls ${secret.name} -n ${secret.namespace} --cert=tls.crt ` +
    `--key=tls.key --dry-run=client -o yaml | kubectl apply -f -`;
}

function certManagerHint(target: Target, step: string): string {
  const secret = secretOf(target);
  if (!secret) return "";
  return `; with cert-manager, ${step}, then ${cmctlRenewCommand(secret)}`;
}

function noteValue(target: Target, key: string): string | undefined {
  const prefix = `${key}=`;
  return target.notes?.find((note) => note.startsWith(prefix))?.slice(prefix.length);
}

function expectedNames(target: Target): string {
  const names = target.kind === "endpoint"
    ? target.expectedNames
    : target.kind === "material"
    ? target.expectedNames ?? []
    : [];
  return names.length > 0 ? names.join(", ") : "the names its clients use";
}
