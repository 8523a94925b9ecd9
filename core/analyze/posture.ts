/**
 * Key, signature and validity checks of one certificate, and which TLS versions count as legacy.
 *
 * @module
 */
import type { CertificateFacts } from "../x509/mod.ts";
import { formatTime, type Problem } from "./assessment.ts";

/** Smallest RSA modulus considered safe, in bits. */
export const MIN_RSA_KEY_BITS = 2048;

/** Smallest elliptic-curve key considered safe, in bits. */
export const MIN_EC_KEY_BITS = 256;

export function addValidityProblems(
  certificate: CertificateFacts,
  at: Date,
  problems: Problem[],
): void {
  if (certificate.notBefore > at) {
    problems.push({
      type: "NOT_YET_VALID",
      message: `certificate is not valid until ${formatTime(certificate.notBefore)}`,
    });
  }
}

export function keyPosture(certificate: CertificateFacts, problems: Problem[]): string[] {
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

export function isLegacyVersion(version: string | undefined): boolean {
  return version === "TLSv1" || version === "TLSv1.1" || version === "SSLv3";
}
