/**
 * The intermediate result of analysis: a finding without severity, with its problems and the facts
 * that classification and post-processing need.
 *
 * @module
 */
import type { Finding, PROBE_FAILED } from "../model.ts";
import { formatTime } from "../rfc3339.ts";
import type { Target } from "../target.ts";
import type { CertificateFacts } from "../x509/mod.ts";

/** A problem found on a target; `classify.ts` turns problems into a severity. */
export interface Problem {
  /** Upper snake case, becomes `findingType` when it is the most severe problem. */
  type: ProblemType;
  message: string;
  /** When the condition began, for problems judged by how long they last (a pending request). */
  since?: Date;
}

/** Problems analysis can report. Expiry is judged in `classify.ts` from `notAfter`. */
export type ProblemType =
  | typeof PROBE_FAILED
  | "CERT_UNREADABLE"
  | "CERT_MISSING"
  | "SECRET_NOT_FOUND"
  | "READ_FORBIDDEN"
  | "READ_FAILED"
  | "INVALID_URL"
  | "INVALID_CLIENT_CONFIG"
  | "CABUNDLE_INVALID"
  | "CABUNDLE_MISMATCH"
  | "CABUNDLE_EXPIRED"
  | "CHAIN_INVALID"
  | "INTERMEDIATE_EXPIRED"
  | "NAME_MISMATCH"
  | "NOT_YET_VALID"
  | "INSECURE_SKIP_VERIFY"
  | "WEAK_TLS_VERSION"
  | "WEAK_KEY"
  | "WEAK_SIGNATURE"
  | "ANNOTATION_INVALID"
  | "NO_ENDPOINTS"
  | "REF_NOT_PERMITTED"
  | "REF_INVALID"
  | "RENEWAL_STALLED"
  | "CHALLENGE_FAILED"
  | "REQUEST_PENDING"
  | "REQUEST_DENIED"
  | "REQUEST_INVALID"
  | "REQUEST_FAILED"
  | "EXCESSIVE_ROTATION"
  | "STALE_SERVING_CERT"
  | "READY_BUT_EXPIRED";

/** A finding before classification, with the problems and facts classification needs. */
export interface Assessment {
  target: Target;
  finding: Omit<Finding, "severity">;
  problems: Problem[];
  /** Expiry of the reported certificate, when one was read. */
  notAfter?: Date;
  /** A CA kept in a bundle beside a newer CA with the same subject (rotation overlap). */
  supersededBy?: string;
  /** The leaf stored in the Secret an endpoint should serve, when the target names one. */
  storedLeaf?: { serial: string; notAfter: Date };
  /** The cert-manager Certificate that renews this certificate on schedule (set by post-processing). */
  managedRenewal?: { certificate: string; renewalTime: Date };
}

export function contextFields(
  target: Target,
): Pick<Finding, "source" | "name" | "namespace" | "notes"> {
  const fields: Pick<Finding, "source" | "name" | "namespace" | "notes"> = {
    source: target.source,
    name: target.name,
  };
  if (target.namespace) fields.namespace = target.namespace;
  if (target.notes && target.notes.length > 0) fields.notes = target.notes.join("; ");
  return fields;
}

/** Returns the contract fields read from one certificate. */
export function certificateFields(
  certificate: CertificateFacts,
): Pick<
  Finding,
  | "notAfter"
  | "subject"
  | "issuer"
  | "serial"
  | "dnsNames"
  | "keyAlgorithm"
  | "keySize"
  | "signatureAlgorithm"
  | "selfSigned"
  | "isCA"
> {
  return {
    notAfter: formatTime(certificate.notAfter),
    subject: certificate.subject,
    issuer: certificate.issuer,
    serial: certificate.serial,
    dnsNames: [...certificate.dnsNames, ...certificate.ipAddresses],
    keyAlgorithm: certificate.keyAlgorithm,
    keySize: certificate.keySize,
    signatureAlgorithm: certificate.signatureAlgorithm,
    selfSigned: certificate.selfSigned,
    isCA: certificate.isCA,
  };
}

export { formatTime };
