/**
 * Certificate analysis: turns a target, and for endpoints the probe result, into findings with
 * every fact of the JSON contract and a list of problems. Severity is not decided here but in
 * `classify.ts`, from the problems and the target's context.
 *
 * @module
 */
import { rootCertificates } from "node:tls";
import {
  type CertificateFacts,
  certificateFactsFromDer,
  CertificateParseError,
  coversName,
  decodeCaBundle,
  parseCertificateBundle,
  type ParsedBundle,
  verifyChain,
} from "./x509/mod.ts";
import { type Finding, PROBE_FAILED, ZERO_TIME } from "./model.ts";
import type { ProbeResult } from "./probe/prober.ts";
import type { EndpointTarget, MaterialTarget, ProblemTarget, Target, TrustSpec } from "./target.ts";

/** Smallest RSA modulus considered safe, in bits. */
export const MIN_RSA_KEY_BITS = 2048;
/** Smallest elliptic-curve key considered safe, in bits. */
export const MIN_EC_KEY_BITS = 256;

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
  | "INVALID_URL"
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

/** Analyses an endpoint target with the result of its probe. */
export function assessEndpoint(target: EndpointTarget, probe: ProbeResult, at: Date): Assessment {
  const finding: Omit<Finding, "severity"> = {
    ...contextFields(target),
    probeOk: probe.ok,
    notAfter: ZERO_TIME,
    target: `${formatHost(target.endpoint.host)}:${target.endpoint.port}`,
    sni: target.endpoint.sni ?? defaultSni(target.endpoint.host),
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
    const reasons = check.errors.filter((error) => !isLeafDateError(error));
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
        const errors = check.errors.filter((error) => !isLeafDateError(error));
        if (errors.length > 0) {
          finding.chainErrors = errors;
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

function contextFields(target: Target): Pick<Finding, "source" | "name" | "namespace" | "notes"> {
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

/** Formats a date as RFC 3339 in UTC without fractional seconds, as the published schema. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function addValidityProblems(certificate: CertificateFacts, at: Date, problems: Problem[]): void {
  if (certificate.notBefore > at) {
    problems.push({
      type: "NOT_YET_VALID",
      message: `certificate is not valid until ${formatTime(certificate.notBefore)}`,
    });
  }
}

function keyPosture(certificate: CertificateFacts, problems: Problem[]): string[] {
  const issues: string[] = [];
  const { keyAlgorithm, keySize, signatureAlgorithm } = certificate;
  if (keyAlgorithm === "RSA" && keySize < MIN_RSA_KEY_BITS) {
    issues.push(`RSA key of ${keySize} bits; use at least ${MIN_RSA_KEY_BITS}`);
    problems.push({ type: "WEAK_KEY", message: issues[issues.length - 1] });
  } else if (keyAlgorithm === "ECDSA" && keySize < MIN_EC_KEY_BITS) {
    issues.push(`EC key of ${keySize} bits; use P-256 or larger`);
    problems.push({ type: "WEAK_KEY", message: issues[issues.length - 1] });
  }
  if (!certificate.selfSigned && /^(MD5|SHA1|MD2)-|-SHA1$/.test(signatureAlgorithm)) {
    issues.push(`signed with ${signatureAlgorithm}, which is broken; reissue with SHA-256`);
    problems.push({ type: "WEAK_SIGNATURE", message: issues[issues.length - 1] });
  }
  return issues;
}

let systemRoots: CertificateFacts[] | undefined;

/** Returns the public roots Deno trusts, parsed once. */
function systemAnchors(): CertificateFacts[] {
  systemRoots ??= rootCertificates.flatMap((pem) =>
    parseAnchorsQuietly(new TextEncoder().encode(pem))
  );
  return systemRoots;
}

function parseAnchorsQuietly(bytes: Uint8Array): CertificateFacts[] {
  try {
    return parseCertificateBundle(bytes).certificates;
  } catch {
    return [];
  }
}

/** Returns the anchors of a trust spec, or undefined when nothing is verified; adds problems. */
function anchorsFor(trust: TrustSpec, problems: Problem[]): CertificateFacts[] | undefined {
  switch (trust.kind) {
    case "skip":
      return undefined;
    case "unknown":
      return [];
    case "system":
      return systemAnchors();
    case "invalid":
      problems.push({ type: "CABUNDLE_INVALID", message: `${trust.origin}: ${trust.message}` });
      return [];
    case "anchors": {
      try {
        const bundle = decodeCaBundle(trust.pem);
        if (bundle.encoding !== "pem") {
          problems.push({
            type: "CABUNDLE_INVALID",
            message: `${trust.origin} is ${
              describeEncoding(bundle.encoding)
            }, not PEM, so no CA is trusted`,
          });
          return [];
        }
        return bundle.certificates;
      } catch (error) {
        problems.push({
          type: "CABUNDLE_INVALID",
          message: `${trust.origin} ${(error as Error).message}`,
        });
        return [];
      }
    }
  }
}

/** Errors of `verifyChain` that mean the path reached no trust anchor. */
const AUTHORITY_ERROR = /^(unknown authority|missing intermediate|wrong intermediate)/;

/**
 * Names why a served chain is not trusted. Against a caBundle, a path that reaches no CA of the
 * bundle is `CABUNDLE_MISMATCH` and a path that ends at an expired CA of the bundle is
 * `CABUNDLE_EXPIRED`, because that is how the API server fails. Everything else is
 * `CHAIN_INVALID`.
 */
function untrustedChainProblem(
  trust: TrustSpec,
  anchors: CertificateFacts[],
  reasons: string[],
  at: Date,
): Problem {
  const origin = originOf(trust);
  if (trust.kind === "anchors" && trust.caBundle) {
    const expiredAnchor = anchors.find((anchor) =>
      anchor.notAfter < at &&
      reasons.some((reason) => reason.includes(` ${anchor.subject} expired `))
    );
    if (expiredAnchor) {
      return {
        type: "CABUNDLE_EXPIRED",
        message:
          `the served chain ends at CA ${expiredAnchor.subject} in ${origin}, which expired ${
            formatTime(expiredAnchor.notAfter)
          }: ${reasons.join("; ")}`,
      };
    }
    if (reasons.some((reason) => AUTHORITY_ERROR.test(reason))) {
      return {
        type: "CABUNDLE_MISMATCH",
        message: `the served chain does not verify against ${origin}: ${reasons.join("; ")}`,
      };
    }
  }
  return {
    type: "CHAIN_INVALID",
    message: `chain does not verify against ${origin}: ${reasons.join("; ")}`,
  };
}

function originOf(trust: TrustSpec): string {
  return trust.kind === "system"
    ? "the system's public roots"
    : "origin" in trust
    ? trust.origin
    : "";
}

function describeEncoding(encoding: string): string {
  return encoding === "der"
    ? "DER"
    : encoding === "base64-pem"
    ? "base64-encoded PEM (encoded twice)"
    : encoding;
}

function isLeafDateError(error: string): boolean {
  return /^leaf (expired|not yet valid)/.test(error);
}

function isLegacyVersion(version: string | undefined): boolean {
  return version === "TLSv1" || version === "TLSv1.1" || version === "SSLv3";
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

function defaultSni(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(":") ? undefined : host;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
