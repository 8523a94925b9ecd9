/**
 * Classification: the one place that decides a finding's severity and `findingType`, from the
 * analysis problems, the certificate's expiry and the target's context.
 *
 * - critical: expired; inside `critBefore`; TLS 1.0/1.1; a fail-closed surface whose certificate
 *   cannot be verified, does not cover its name, or cannot be reached.
 * - warn: inside `warnBefore`; `insecureSkipTLSVerify`; any problem on a surface that is not
 *   fail-closed; webhooks with `failurePolicy: Ignore` are capped at warn.
 * - info: healthy inventory, whatever the surface's criticality.
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
  "CHAIN_INVALID",
  "NAME_MISMATCH",
  "NOT_YET_VALID",
  "INVALID_URL",
]);

/** Problems that are critical wherever they occur. */
const ALWAYS_CRITICAL: ReadonlySet<ProblemType> = new Set([
  "INTERMEDIATE_EXPIRED",
  "WEAK_TLS_VERSION",
]);

interface Judged {
  type: string;
  severity: Severity;
  message: string;
}

/** Returns the finding with its severity, `findingType` and remediation decided. */
export function classify(assessment: Assessment, thresholds: Thresholds, at: Date): Finding {
  const { target } = assessment;
  const judged: Judged[] = assessment.problems.map((problem) =>
    judgeProblem(problem, target.failClosed)
  );
  const expiry = judgeExpiry(assessment, thresholds, at);
  if (expiry) judged.push(expiry);

  const finding: Finding = { ...assessment.finding, severity: "info" };
  if (judged.length === 0) return finding;

  judged.sort((a, b) => rank(a.severity) - rank(b.severity) || typeRank(a.type) - typeRank(b.type));
  const worst = judged[0];
  let severity = target.severityOverride ?? worst.severity;
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

function judgeProblem(problem: Problem, failClosed: boolean): Judged {
  let severity: Severity = "warn";
  if (ALWAYS_CRITICAL.has(problem.type)) severity = "critical";
  else if (TRUST_PROBLEMS.has(problem.type) && failClosed) severity = "critical";
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
  const severity: Severity = remainingMs <= thresholds.critBeforeMs ? "critical" : "warn";
  return { type: "EXPIRING", severity, message: `expires ${formatTime(notAfter)}` };
}

/** Finding types that name the cause best when several problems are equally severe. */
const TYPE_PRIORITY = [
  "CABUNDLE_INVALID",
  "EXPIRED",
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
