/**
 * Post-processing: rules that need more than one finding, applied after classification. Each
 * rule adds a problem or a fact to an assessment and classifies it again, so severity is still
 * decided only in `classify.ts`.
 *
 * - `STALE_SERVING_CERT`: an endpoint serves another certificate than the one its Secret holds
 *   now, so the workload did not reload after a rotation.
 * - `READY_BUT_EXPIRED`: a cert-manager Certificate reports Ready while its Secret's certificate
 *   has expired.
 * - `MANAGED_EXPIRY`: a certificate, read by any source, whose Certificate renews it on schedule.
 *
 * @module
 */
import { type Assessment, formatTime } from "./analyze.ts";
import { classify, type Thresholds } from "./classify.ts";
import type { Finding } from "./model.ts";
import { type CertificateStatus, type NamespacedName, secretOf } from "./target.ts";

/** A classified finding with the assessment it came from. */
export interface ClassifiedFinding {
  assessment: Assessment;
  finding: Finding;
}

/** Two notAfter times closer than this describe the same certificate (RFC 3339 drops millis). */
const SAME_TIME_TOLERANCE_MS = 1_000;

interface ManagedCertificate {
  certificate: string;
  status: CertificateStatus;
}

/** Applies the cross-finding rules and returns the findings, re-classified where a rule applied. */
export function postProcess(
  entries: ClassifiedFinding[],
  thresholds: Thresholds,
  at: Date,
): Finding[] {
  const managed = managedSecrets(entries);
  const troubled = certificatesWithRenewalProblems(entries);

  return entries.map(({ assessment, finding }) => {
    let changed = addStaleServingProblem(assessment, finding);
    changed = addCertificateStatusProblems(assessment, at) || changed;

    const secret = secretOf(assessment.target);
    const certificate = secret ? managed.get(keyOf(secret)) : undefined;
    if (certificate && !troubled.has(certificate.certificate)) {
      changed = markManagedRenewal(assessment, certificate, at) || changed;
    }
    return changed ? classify(assessment, thresholds, at) : finding;
  });
}

/** Maps `namespace/secret` to the Certificate that manages it, from the certmanager findings. */
function managedSecrets(entries: ClassifiedFinding[]): Map<string, ManagedCertificate> {
  const managed = new Map<string, ManagedCertificate>();
  for (const { assessment } of entries) {
    const target = assessment.target;
    if (target.kind !== "material" || !target.certificateStatus) continue;
    if (!target.secretRef || !target.certificateRef) continue;
    managed.set(keyOf(target.secretRef), {
      certificate: keyOf(target.certificateRef),
      status: target.certificateStatus,
    });
  }
  return managed;
}

/** Returns the Certificates (`namespace/name`) with a renewal problem: they do not renew healthily. */
function certificatesWithRenewalProblems(entries: ClassifiedFinding[]): Set<string> {
  const troubled = new Set<string>();
  for (const { assessment, finding } of entries) {
    const reference = assessment.target.certificateRef;
    if (finding.source !== "certmanager.renewal" || !reference) continue;
    if (finding.severity !== "info") troubled.add(keyOf(reference));
  }
  return troubled;
}

function addStaleServingProblem(assessment: Assessment, finding: Finding): boolean {
  const stored = assessment.storedLeaf;
  if (!stored || !finding.probeOk || !finding.serial || finding.serial === stored.serial) {
    return false;
  }
  const secret = assessment.target.secretRef;
  const label = secret ? `secret ${secret.namespace}/${secret.name}` : "its Secret";
  assessment.problems.push({
    type: "STALE_SERVING_CERT",
    message: `serves serial ${finding.serial} (notAfter ${finding.notAfter}), but ${label} holds ` +
      `serial ${stored.serial} (notAfter ${formatTime(stored.notAfter)}); the workload did not ` +
      "reload the rotated certificate",
  });
  return true;
}

/** Compares a Certificate's status with its Secret, which is what clients are served. */
function addCertificateStatusProblems(assessment: Assessment, at: Date): boolean {
  const target = assessment.target;
  if (target.kind !== "material" || !target.certificateStatus || !assessment.notAfter) return false;
  const status = target.certificateStatus;
  const certificate = target.certificateRef ? keyOf(target.certificateRef) : target.name;
  let changed = false;

  if (status.notAfter && !sameTime(status.notAfter, assessment.notAfter)) {
    const note = `status.notAfter of Certificate ${certificate} is ${
      formatTime(status.notAfter)
    }, but the certificate in ${target.objectLabel} expires ${
      formatTime(assessment.notAfter)
    }; the Secret is what is served`;
    assessment.finding.notes = [assessment.finding.notes, note].filter(Boolean).join("; ");
    changed = true;
  }
  if (status.ready === "True" && assessment.notAfter <= at) {
    assessment.problems.push({
      type: "READY_BUT_EXPIRED",
      message:
        `Certificate ${certificate} reports Ready=True, but the certificate in ${target.objectLabel} expired ${
          formatTime(assessment.notAfter)
        }`,
    });
    changed = true;
  }
  return changed;
}

/**
 * Marks a certificate as renewed on schedule when its Certificate is Ready, its renewal time is
 * still ahead and the certificate is the one the Certificate's status describes.
 */
function markManagedRenewal(
  assessment: Assessment,
  managed: ManagedCertificate,
  at: Date,
): boolean {
  const { status } = managed;
  if (status.ready !== "True" || !status.renewalTime || !status.notAfter) return false;
  if (!assessment.notAfter || !sameTime(status.notAfter, assessment.notAfter)) return false;
  if (status.renewalTime <= at) return false;
  assessment.managedRenewal = { certificate: managed.certificate, renewalTime: status.renewalTime };
  return true;
}

function keyOf(reference: NamespacedName): string {
  return `${reference.namespace}/${reference.name}`;
}

function sameTime(a: Date, b: Date): boolean {
  return Math.abs(a.getTime() - b.getTime()) < SAME_TIME_TOLERANCE_MS;
}
