/**
 * Protocol posture: what is weak about the TLS version and cipher suite a server negotiated.
 * Key sizes and signature algorithms are judged from the certificate elsewhere.
 *
 * @module
 */

const DEPRECATED_VERSIONS: Record<string, string> = {
  "SSLv3": "server negotiated SSL 3.0, which is prohibited (RFC 7568)",
  "TLSv1": "server negotiated TLS 1.0, which is deprecated (RFC 8996)",
  "TLSv1.1": "server negotiated TLS 1.1, which is deprecated (RFC 8996)",
};

/**
 * Lists the posture issues of a negotiated protocol and cipher suite (IANA name), one sentence
 * each. Returns an empty list when both are acceptable or unknown.
 *
 * @example
 * ```ts
 * assessPosture("TLSv1", "TLS_RSA_WITH_RC4_128_SHA"); // two issues: TLS 1.0 and RC4
 * ```
 */
export function assessPosture(tlsVersion?: string, cipherSuite?: string): string[] {
  const issues: string[] = [];

  const versionIssue = tlsVersion === undefined ? undefined : DEPRECATED_VERSIONS[tlsVersion];
  if (versionIssue) issues.push(versionIssue);

  const cipherIssue = cipherSuite === undefined ? undefined : weakCipherIssue(cipherSuite);
  if (cipherIssue) issues.push(cipherIssue);

  return issues;
}

function weakCipherIssue(cipherSuite: string): string | undefined {
  const suite = `server negotiated cipher suite ${cipherSuite}`;
  if (cipherSuite.includes("_EXPORT")) {
    return `${suite}, an export-grade suite that can be broken (FREAK, CVE-2015-0204)`;
  }
  if (cipherSuite.includes("_NULL_")) return `${suite}, which does not encrypt traffic`;
  if (cipherSuite.includes("_RC4_")) return `${suite}, and RC4 is prohibited (RFC 7465)`;
  if (cipherSuite.includes("_3DES_")) {
    return `${suite}, and 3DES has a 64-bit block open to Sweet32 (CVE-2016-2183)`;
  }
  if (cipherSuite.includes("_DES_") || cipherSuite.includes("_DES40_")) {
    return `${suite}, and single DES can be broken by brute force`;
  }
  if (cipherSuite.includes("_RC2_")) return `${suite}, and RC2 can be broken`;
  return undefined;
}
