/**
 * Host name checks against a certificate's subjectAltName, following RFC 6125 as Go's
 * crypto/x509 and browsers apply it.
 *
 * @module
 */
import type { CertificateFacts } from "./certificate.ts";
import { normalizeIpAddress } from "./_ip_address.ts";

/**
 * Whether the certificate is valid for `name`, a DNS name or an IP address.
 *
 * - DNS names match DNS SANs only, ignoring ASCII case and one trailing dot. The subject CN is
 *   never used, not even when the certificate has no SANs, because Go (since 1.15) and browsers
 *   ignore it: a certificate that relies on the CN fails in the clients Kubernetes uses.
 * - A wildcard matches only as the whole left-most label: `*.example.com` covers `a.example.com`
 *   but not `a.b.example.com`, `example.com` or `.example.com`.
 * - IPv4 and IPv6 addresses (brackets allowed) match IP SANs only, compared in normal form.
 *
 * @example
 * ```ts
 * coversName(facts, "webhook.payments.svc");
 * coversName(facts, "[::1]");
 * ```
 */
export function coversName(certificate: CertificateFacts, name: string): boolean {
  const ipAddress = normalizeIpAddress(name);
  if (ipAddress !== undefined) {
    return certificate.ipAddresses.some((san) => normalizeIpAddress(san) === ipAddress);
  }

  const host = normalizeDnsName(name);
  if (host === "") return false;
  return certificate.dnsNames.some((san) => matchesDnsName(normalizeDnsName(san), host));
}

function normalizeDnsName(name: string): string {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  return trimmed.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function matchesDnsName(pattern: string, host: string): boolean {
  if (pattern === "") return false;
  if (!pattern.startsWith("*.")) return pattern === host;

  const hostLabels = host.split(".");
  const patternLabels = pattern.split(".");
  if (hostLabels.length !== patternLabels.length || hostLabels[0] === "") return false;
  return hostLabels.slice(1).join(".") === patternLabels.slice(1).join(".");
}
