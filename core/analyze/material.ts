/**
 * Analysis of certificates stored in objects (Secret and ConfigMap keys, caBundle fields): one
 * assessment per certificate in the bundle, plus one per unreadable block.
 *
 * @module
 */
import { type Finding, ZERO_TIME } from "../model.ts";
import type { MaterialTarget, ProblemTarget } from "../target.ts";
import {
  type CertificateFacts,
  CertificateParseError,
  coversName,
  decodeCaBundle,
  parseCertificateBundle,
  type ParsedBundle,
  verifyChain,
} from "../x509/mod.ts";
import {
  type Assessment,
  certificateFields,
  contextFields,
  formatTime,
  type Problem,
  type ProblemType,
} from "./assessment.ts";
import { addValidityProblems, keyPosture } from "./posture.ts";
import {
  describeEncoding,
  isLeafDateError,
  parseAnchorsQuietly,
  problemChainErrors,
} from "./trust.ts";

/** Analyses certificates stored in an object: one assessment per certificate in the bundle. */
export function assessMaterial(target: MaterialTarget, at: Date): Assessment[] {
  const base = { ...contextFields(target), target: target.key };
  let bundle: ParsedBundle & { encoding?: string };
  try {
    bundle = target.caBundle ? decodeCaBundle(target.bytes) : parseCertificateBundle(target.bytes);
  } catch (error) {
    const reason = error instanceof CertificateParseError ? error.message : String(error);
    const type = target.caBundle ? "CABUNDLE_INVALID" : "CERT_UNREADABLE";
    const probeError = `${target.objectLabel}: ${target.key} ${reason}`;
    return [{
      target,
      finding: { ...base, probeOk: false, notAfter: ZERO_TIME, probeError },
      problems: [{ type, message: probeError }],
    }];
  }

  if (bundle.certificates.length === 0) {
    const probeError = `${target.objectLabel}: ${target.key} is empty; expected a PEM certificate`;
    return [{
      target,
      finding: { ...base, probeOk: false, notAfter: ZERO_TIME, probeError },
      problems: [{ type: "CERT_MISSING", message: probeError }],
    }];
  }

  const certificates = target.leafOnly ? bundle.certificates.slice(0, 1) : bundle.certificates;
  const anchors = target.anchors ? parseAnchorsQuietly(target.anchors) : [];
  const unreadable = bundle.invalidBlocks.map((reason): Assessment => {
    const probeError = `${target.objectLabel}: ${target.key} ${reason}`;
    return {
      target,
      finding: { ...base, probeOk: false, notAfter: ZERO_TIME, probeError },
      problems: [{
        type: target.caBundle ? "CABUNDLE_INVALID" : "CERT_UNREADABLE",
        message: probeError,
      }],
    };
  });
  return [
    ...unreadable,
    ...certificates.map((certificate, index) => {
      const problems: Problem[] = [];
      const finding: Omit<Finding, "severity"> = {
        ...base,
        ...certificateFields(certificate),
        probeOk: true,
        target: bundle.certificates.length > 1 && !target.leafOnly
          ? `${target.key}[${index}]`
          : target.key,
      };
      if (target.caBundle && bundle.encoding && bundle.encoding !== "pem") {
        problems.push({
          type: "CABUNDLE_INVALID",
          message:
            `${target.objectLabel}: caBundle is ${describeEncoding(bundle.encoding)}, not PEM; ` +
            "the API server cannot use it",
        });
        finding.chainErrors = [problems[0].message];
      }
      if (index === 0 && !certificate.isCA) {
        const check = verifyChain(bundle.certificates, { anchors, at });
        finding.chainLen = bundle.certificates.length;
        finding.issuerChain = check.issuerChain;
        const facts = check.errors.filter((error) => !isLeafDateError(error));
        if (facts.length > 0) finding.chainErrors = facts;
        const errors = problemChainErrors(check.errors, anchors);
        if (errors.length > 0) {
          problems.push({
            type: "CHAIN_INVALID",
            message: `${target.objectLabel}: ${errors.join("; ")}`,
          });
        }
        const uncovered = (target.expectedNames ?? []).filter((name) =>
          !coversName(certificate, name)
        );
        if (uncovered.length > 0) {
          problems.push({
            type: "NAME_MISMATCH",
            message: `hosts ${uncovered.join(", ")} not covered by ${target.objectLabel} ` +
              `(SANs [${certificate.dnsNames.join(", ")}])`,
          });
        }
      }
      if (index === 0 && target.chainTo) {
        addChainToProblems(target, bundle.certificates, at, finding, problems);
      }
      const posture = keyPosture(certificate, problems);
      if (posture.length > 0) finding.postureIssues = posture;
      addValidityProblems(certificate, at, problems);

      const successor = supersedingCertificate(certificate, bundle.certificates, at);
      if (target.caBundle && !successor && certificate.notAfter < at) {
        problems.push({
          type: "CABUNDLE_EXPIRED",
          message: `${target.objectLabel}: CA ${certificate.subject} in the caBundle expired ${
            formatTime(certificate.notAfter)
          }; the API server rejects every certificate it issued`,
        });
      }
      return {
        target,
        finding,
        problems,
        notAfter: certificate.notAfter,
        supersededBy: successor?.serial,
      };
    }),
  ];
}

/** Returns the finding of a target that carries its problem already (a missing Secret). */
export function assessProblem(target: ProblemTarget): Assessment {
  return {
    target,
    finding: {
      ...contextFields(target),
      probeOk: false,
      notAfter: ZERO_TIME,
      target: target.target,
      probeError: target.message,
    },
    problems: [{
      type: target.findingType as ProblemType,
      message: target.message,
      since: target.since,
    }],
  };
}

/**
 * Checks that the first certificate of a bundle chains to the anchors a target names, even when it
 * is a CA: a mesh issuer that does not chain to the trust roots breaks every workload identity.
 */
function addChainToProblems(
  target: MaterialTarget,
  certificates: CertificateFacts[],
  at: Date,
  finding: Omit<Finding, "severity">,
  problems: Problem[],
): void {
  const chainTo = target.chainTo!;
  const anchors = parseAnchorsQuietly(chainTo.anchors);
  if (anchors.length === 0) {
    problems.push({
      type: "CHAIN_INVALID",
      message:
        `${target.objectLabel}: ${chainTo.origin} holds no readable certificate to verify against`,
    });
    return;
  }
  const leaf = certificates[0];
  const seen = new Set([
    leaf.fingerprintSha256,
    ...anchors.map((anchor) => anchor.fingerprintSha256),
  ]);
  const intermediates = [
    ...certificates.slice(1),
    ...(chainTo.intermediates ? parseAnchorsQuietly(chainTo.intermediates) : []),
  ].filter((certificate) => {
    if (seen.has(certificate.fingerprintSha256)) return false;
    seen.add(certificate.fingerprintSha256);
    return true;
  });
  const check = verifyChain([leaf, ...intermediates], { anchors, at });
  finding.chainLen = 1 + intermediates.length;
  finding.issuerChain = check.issuerChain;
  const errors = check.errors.filter((error) => !isLeafDateError(error));
  if (!check.trusted && errors.length > 0) {
    finding.chainErrors = errors;
    problems.push({
      type: "CHAIN_INVALID",
      message: `${target.objectLabel}: ${target.key} does not chain to ${chainTo.origin}: ${
        errors.join("; ")
      }`,
    });
  }
}

/** Returns a newer valid CA with the same subject in the same bundle, when there is one. */
function supersedingCertificate(
  certificate: CertificateFacts,
  bundle: CertificateFacts[],
  at: Date,
): CertificateFacts | undefined {
  if (!certificate.isCA) return undefined;
  return bundle.find((other) =>
    other !== certificate && other.isCA && other.subject === certificate.subject &&
    other.notAfter > certificate.notAfter && other.notBefore <= at && other.notAfter > at
  );
}
