/**
 * Classification: the one place that decides a finding's severity and `findingType`, from the
 * analysis problems, the certificate's expiry and the target's context.
 *
 * - critical: expired; inside `critBefore`; TLS 1.0/1.1; a fail-closed surface whose certificate
 *   cannot be verified, does not cover its name, or cannot be reached.
 * - warn: inside `warnBefore`; `insecureSkipTLSVerify`; any problem on a surface that is not
 *   fail-closed; webhooks with `failurePolicy: Ignore` are capped at warn.
 * - info: healthy inventory, whatever the surface's criticality; a certificate inside the warning
 *   window whose cert-manager Certificate renews it on schedule (`MANAGED_EXPIRY`).
 * - cert-manager renewals: a request pending over an hour is a warning, over a day critical; a
 *   Certificate that reports Ready while its Secret's certificate expired is critical.
 *
 * @module
 */
import type { Assessment, Problem, ProblemType } from "./analyze.ts";
import { formatTime } from "./analyze.ts";
import { type Finding, SEVERITIES, type Severity } from "./model.ts";
import { remediationFor } from "./remediation.ts";

/** Expiry windows in milliseconds. */
export interface Thresholds {
  warnBeforeMs: number;
  critBeforeMs: number;
}

/** Problems that are critical on a fail-closed surface and warnings elsewhere. */
const TRUST_PROBLEMS: ReadonlySet<ProblemType> = new Set([
  "PROBE_FAILED",
  "CABUNDLE_INVALID",
  "CABUNDLE_MISMATCH",
  "CHAIN_INVALID",
  "NAME_MISMATCH",
  "NOT_YET_VALID",
  "INVALID_URL",
  "INVALID_CLIENT_CONFIG",
]);

/** Problems that are critical wherever they occur. */
const ALWAYS_CRITICAL: ReadonlySet<ProblemType> = new Set([
  "CABUNDLE_EXPIRED",
  "INTERMEDIATE_EXPIRED",
  "WEAK_TLS_VERSION",
  "READY_BUT_EXPIRED",
]);

/**
 * Problems of stored certificates that are critical on a fail-closed surface: mesh trust roots or
 * an issuer that cannot be read break every workload identity, and one that trustwatch may not
 * read (`READ_FORBIDDEN`) cannot be verified.
 */
const FAIL_CLOSED_MATERIAL_PROBLEMS: ReadonlySet<ProblemType> = new Set([
  "CERT_UNREADABLE",
  "CERT_MISSING",
  "SECRET_NOT_FOUND",
  "READ_FORBIDDEN",
  "READ_FAILED",
]);

/** A CertificateRequest pending longer than this is a stalled renewal (warn). */
export const RENEWAL_STALLED_WARN_MS = 3_600_000;
/** A CertificateRequest pending longer than this is critical. */
export const RENEWAL_STALLED_CRITICAL_MS = 24 * 3_600_000;

interface Judged {
  type: string;
  severity: Severity;
  message: string;
}

/** Returns the finding with its severity, `findingType` and remediation decided. */
export function classify(assessment: Assessment, thresholds: Thresholds, at: Date): Finding {
  const { target } = assessment;
  const judged: Judged[] = assessment.problems.map((problem) => judgeProblem(problem, target, at));
  const expiry = judgeExpiry(assessment, thresholds, at);
  if (expiry) judged.push(expiry);

  const finding: Finding = { ...assessment.finding, severity: "info" };
  if (judged.length === 0) return finding;

  judged.sort((a, b) => rank(a.severity) - rank(b.severity) || typeRank(a.type) - typeRank(b.type));
  const worst = judged[0];
  // An override sets the severity of problems; healthy results such as MANAGED_EXPIRY stay info.
  let severity = worst.severity === "info" ? "info" : target.severityOverride ?? worst.severity;
  if (target.severityCap && rank(severity) < rank(target.severityCap)) {
    severity = target.severityCap;
  }

  finding.severity = severity;
  finding.findingType = worst.type;
  const details = judged
    .map((entry) => entry.message)
    .filter((message) => message !== finding.probeError && !finding.chainErrors?.includes(message));
  if (details.length > 0) finding.notes = [finding.notes, ...details].filter(Boolean).join("; ");
  if (severity !== "info") finding.remediation = remediationFor(finding, target);
  return stripUndefined(finding);
}

function judgeProblem(problem: Problem, target: Assessment["target"], at: Date): Judged {
  if (problem.type === "RENEWAL_STALLED") return judgeRenewal(problem, at);
  let severity: Severity = "warn";
  if (ALWAYS_CRITICAL.has(problem.type)) severity = "critical";
  else if (TRUST_PROBLEMS.has(problem.type) && target.failClosed) severity = "critical";
  else if (
    FAIL_CLOSED_MATERIAL_PROBLEMS.has(problem.type) && target.failClosed &&
    !(target.kind === "material" && target.caBundle)
  ) severity = "critical";
  return { type: problem.type, severity, message: problem.message };
}

/** Judges a pending renewal by how long it has been pending: info, warn after 1h, critical after 24h. */
function judgeRenewal(problem: Problem, at: Date): Judged {
  const pendingMs = problem.since ? at.getTime() - problem.since.getTime() : Infinity;
  if (pendingMs < RENEWAL_STALLED_WARN_MS) {
    return { type: "RENEWAL_IN_PROGRESS", severity: "info", message: problem.message };
  }
  const severity: Severity = pendingMs > RENEWAL_STALLED_CRITICAL_MS ? "critical" : "warn";
  return { type: problem.type, severity, message: problem.message };
}

function judgeExpiry(assessment: Assessment, thresholds: Thresholds, at: Date): Judged | undefined {
  const notAfter = assessment.notAfter;
  if (!notAfter) return undefined;
  const remainingMs = notAfter.getTime() - at.getTime();
  if (remainingMs > thresholds.warnBeforeMs) return undefined;

  if (assessment.supersededBy) {
    return {
      type: "SUPERSEDED_CA",
      severity: "warn",
      message:
        `${remainingMs <= 0 ? "expired" : "expires"} ${formatTime(notAfter)} but is superseded ` +
        `by serial ${assessment.supersededBy} in the same bundle; remove it once clients trust the new CA`,
    };
  }
  if (remainingMs <= 0) {
    return { type: "EXPIRED", severity: "critical", message: `expired ${formatTime(notAfter)}` };
  }
  const managed = assessment.managedRenewal;
  if (managed && managed.renewalTime > at && managed.renewalTime < notAfter) {
    return {
      type: "MANAGED_EXPIRY",
      severity: "info",
      message: `expires ${formatTime(notAfter)}; cert-manager Certificate ${managed.certificate} ` +
        `renews it at ${formatTime(managed.renewalTime)}`,
    };
  }
  const severity: Severity = remainingMs <= thresholds.critBeforeMs ? "critical" : "warn";
  return { type: "EXPIRING", severity, message: `expires ${formatTime(notAfter)}` };
}

/** Finding types that name the cause best when several problems are equally severe. */
const TYPE_PRIORITY = [
  "CABUNDLE_INVALID",
  "CABUNDLE_EXPIRED",
  "EXPIRED",
  "CABUNDLE_MISMATCH",
  "PROBE_FAILED",
  "INTERMEDIATE_EXPIRED",
  "EXPIRING",
  "NOT_YET_VALID",
  "CHAIN_INVALID",
  "NAME_MISMATCH",
];

function typeRank(type: string): number {
  const index = TYPE_PRIORITY.indexOf(type);
  return index === -1 ? TYPE_PRIORITY.length : index;
}

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function stripUndefined(finding: Finding): Finding {
  for (const key of Object.keys(finding) as (keyof Finding)[]) {
    if (finding[key] === undefined) delete finding[key];
  }
  return finding;
}
