/**
 * One-line remediation for a finding: the concrete next step, with the kubectl command and the
 * real object names where one exists.
 *
 * @module
 */
import type { Finding } from "./model.ts";
import type { Target } from "./target.ts";

/** Returns the next step for a finding that is not healthy. */
export function remediationFor(finding: Finding, target: Target): string {
  const ref = target.ref;
  const inspect = ref
    ? `kubectl get ${ref.resource} ${ref.name}${
      ref.namespace ? ` -n ${ref.namespace}` : ""
    } -o yaml`
    : undefined;
  const where = finding.namespace ? `${finding.namespace}/${finding.name}` : finding.name;

  switch (finding.findingType) {
    case "EXPIRED":
    case "EXPIRING":
      if (target.source === "k8s.tlsSecret" || target.source === "k8s.ingressTLS") {
        return `Renew the certificate in ${where} (for cert-manager: cmctl renew <certificate> -n ${
          finding.namespace ?? "<namespace>"
        }); check with ${inspect}`;
      }
      return `Renew the serving certificate of ${where}${
        serviceNote(target)
      } and restart the workload so it loads it`;
    case "SUPERSEDED_CA":
      return `Remove the old CA (serial ${finding.serial}) from ${where} once every client trusts the new one`;
    case "INTERMEDIATE_EXPIRED":
      return `Replace the expired intermediate in the chain served by ${where}${
        serviceNote(target)
      }`;
    case "PROBE_FAILED":
      return `Check that ${finding.target} serves TLS${serviceNote(target)}: ${
        target.namespace
          ? `kubectl get endpointslices -n ${target.namespace}`
          : "is the address right?"
      }`;
    case "CABUNDLE_INVALID":
      return `Set a PEM CA bundle (base64-encoded once) in the caBundle of ${where}; inspect with ${inspect}`;
    case "CHAIN_INVALID":
      return `Make the served chain verify: serve the intermediates, and make the caBundle of ${where} ` +
        `contain the CA that issued the serving certificate; inspect with ${inspect}`;
    case "NAME_MISMATCH":
      return `Reissue the certificate of ${where} with a SAN for ${expectedNames(target)}`;
    case "NOT_YET_VALID":
      return `Check the clock of the issuer and reissue the certificate of ${where} with a current notBefore`;
    case "SECRET_NOT_FOUND":
      return `Create the Secret ${finding.target} in namespace ${finding.namespace}, or fix secretName; ` +
        `check with kubectl get secret ${finding.target} -n ${finding.namespace}`;
    case "CERT_MISSING":
    case "CERT_UNREADABLE":
      return `Put a PEM certificate into ${where}${
        finding.target ? ` key ${finding.target}` : ""
      }; ` +
        `inspect with ${inspect}`;
    case "INVALID_URL":
      return `Fix clientConfig.url of ${where}; inspect with ${inspect}`;
    case "INSECURE_SKIP_VERIFY":
      return `Replace insecureSkipTLSVerify with a caBundle for ${where}: kubectl edit ${
        ref?.resource ?? "apiservice"
      } ${ref?.name ?? finding.name}`;
    case "WEAK_TLS_VERSION":
      return `Configure ${finding.target} to accept TLS 1.2 or later only`;
    case "WEAK_KEY":
      return `Reissue the certificate of ${where} with an RSA key of at least 2048 bits or an ECDSA P-256 key`;
    case "WEAK_SIGNATURE":
      return `Reissue the certificate of ${where} with a SHA-256 signature`;
    default:
      return inspect ? `Inspect ${where}: ${inspect}` : `Inspect ${where}`;
  }
}

function serviceNote(target: Target): string {
  if (target.kind !== "endpoint") return "";
  return ` (${target.endpoint.host}:${target.endpoint.port})`;
}

function expectedNames(target: Target): string {
  if (target.kind === "endpoint") return target.expectedNames.join(", ");
  if (target.kind === "material") return (target.expectedNames ?? []).join(", ");
  return "its host names";
}
