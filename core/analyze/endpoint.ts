/**
 * Analysis of a probed endpoint: the served chain against the trust the client applies, names,
 * posture and validity.
 *
 * @module
 */
import { type Finding, PROBE_FAILED, ZERO_TIME } from "../model.ts";
import { formatEndpoint, type ProbeResult, serverNameOf } from "../probe/prober.ts";
import type { EndpointTarget } from "../target.ts";
import {
  type CertificateFacts,
  certificateFactsFromDer,
  coversName,
  parseCertificateBundle,
  verifyChain,
} from "../x509/mod.ts";
import {
  type Assessment,
  certificateFields,
  contextFields,
  formatTime,
  type Problem,
} from "./assessment.ts";
import { addValidityProblems, isLegacyVersion, keyPosture } from "./posture.ts";
import { anchorsFor, problemChainErrors, untrustedChainProblem } from "./trust.ts";

/** Analyses an endpoint target with the result of its probe. */
export function assessEndpoint(target: EndpointTarget, probe: ProbeResult, at: Date): Assessment {
  const finding: Omit<Finding, "severity"> = {
    ...contextFields(target),
    probeOk: probe.ok,
    notAfter: ZERO_TIME,
    target: formatEndpoint(target.endpoint),
    sni: serverNameOf(target.endpoint),
  };
  if (probe.tlsVersion) finding.tlsVersion = probe.tlsVersion;
  if (probe.cipherSuite) finding.cipherSuite = probe.cipherSuite;

  if (!probe.ok) {
    finding.probeError = probe.error ?? "probe failed";
    return { target, finding, problems: [{ type: PROBE_FAILED, message: finding.probeError }] };
  }

  const problems: Problem[] = [];
  let chain: CertificateFacts[];
  try {
    chain = probe.chain.map((der) => certificateFactsFromDer(der));
  } catch (error) {
    finding.probeError = `${finding.target} sent a certificate that does not parse: ${
      (error as Error).message
    }`;
    return {
      target,
      finding,
      problems: [{ type: "CERT_UNREADABLE", message: finding.probeError }],
    };
  }
  const leaf = chain[0];
  Object.assign(finding, certificateFields(leaf));
  finding.chainLen = chain.length;

  const anchors = anchorsFor(target.trust, problems);
  const check = verifyChain(chain, { anchors: anchors ?? [], at });
  finding.issuerChain = check.issuerChain;
  const chainErrors = [...check.errors];

  if (target.trust.kind === "skip") {
    problems.push({
      type: "INSECURE_SKIP_VERIFY",
      message:
        `${target.trust.origin} sets insecureSkipTLSVerify: the certificate is never verified`,
    });
  } else if (anchors) {
    const reasons = problemChainErrors(check.errors, anchors);
    if (!check.trusted && reasons.length > 0) {
      problems.push(untrustedChainProblem(target.trust, anchors, reasons, at));
    }
    const uncovered = target.expectedNames.filter((name) => !coversName(leaf, name));
    if (uncovered.length > 0) {
      const message = `${uncovered.join(", ")} not covered by the certificate's SANs [${
        leaf.dnsNames.join(", ")
      }]`;
      chainErrors.push(message);
      problems.push({ type: "NAME_MISMATCH", message });
    }
  }
  const expiredIntermediate = chain.slice(1).find((certificate) => certificate.notAfter < at);
  if (expiredIntermediate) {
    problems.push({
      type: "INTERMEDIATE_EXPIRED",
      message: `${expiredIntermediate.subject} in the served chain expired ${
        formatTime(expiredIntermediate.notAfter)
      }`,
    });
  }
  if (chainErrors.length > 0) finding.chainErrors = chainErrors;

  const posture = [...probe.postureIssues];
  if (probe.postureIssues.length > 0 && isLegacyVersion(probe.tlsVersion)) {
    problems.push({ type: "WEAK_TLS_VERSION", message: probe.postureIssues[0] });
  } else if ((probe.acceptedLegacyVersions ?? []).length > 0) {
    const accepted = probe.postureIssues.filter((issue) => issue.startsWith("server accepts "));
    problems.push({ type: "WEAK_TLS_VERSION", message: accepted.join("; ") });
  }
  posture.push(...keyPosture(leaf, problems));
  if (posture.length > 0) finding.postureIssues = posture;

  addValidityProblems(leaf, at, problems);
  return {
    target,
    finding,
    problems,
    notAfter: leaf.notAfter,
    storedLeaf: storedLeafOf(target),
  };
}

/** Returns the leaf of the Secret an endpoint should serve; an unreadable one is reported by its own target. */
function storedLeafOf(target: EndpointTarget): Assessment["storedLeaf"] {
  if (!target.storedCertificate) return undefined;
  try {
    const leaf = parseCertificateBundle(target.storedCertificate).certificates[0];
    return leaf ? { serial: leaf.serial, notAfter: leaf.notAfter } : undefined;
  } catch {
    return undefined;
  }
}
