/**
 * The JSON contract: findings, snapshots, severities and source kinds.
 *
 * Field names follow trustwatch's published schema. Fields may be added, never removed or
 * renamed, because scripts and dashboards read them.
 *
 * @module
 */

/** Severities, most severe first. */
export const SEVERITIES = ["critical", "warn", "info"] as const;

/** Urgency of a finding: `critical` blocks, `warn` needs attention, `info` is inventory. */
export type Severity = typeof SEVERITIES[number];

/** Every trust surface trustwatch checks, as written in the `source` field. */
export const SOURCE_KINDS = [
  "k8s.apiserver",
  "k8s.webhook",
  "k8s.apiservice",
  "k8s.tlsSecret",
  "k8s.ingressTLS",
  "k8s.gateway",
  "mesh.linkerd",
  "mesh.istio",
  "annotation",
  "external",
  "certmanager",
  "certmanager.renewal",
  "spiffe",
  "cloud.aws.acm",
  "cloud.gcp.cert",
  "cloud.azure.keyvault",
  "policy",
] as const;

/** A trust surface, as written in the `source` field. */
export type SourceKind = typeof SOURCE_KINDS[number];

/** `notAfter` of a finding that has no certificate (Go's zero time, as the published schema). */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** One certificate, endpoint or object state that trustwatch checked. */
export interface Finding {
  source: SourceKind;
  severity: Severity;
  /** Whether the certificate could be read: the handshake or the object parse succeeded. */
  probeOk: boolean;
  /** RFC 3339 expiry of the certificate, or {@linkcode ZERO_TIME} when none was read. */
  notAfter: string;
  name?: string;
  namespace?: string;
  cluster?: string;
  /** `host:port` of a probed endpoint, or `<kind>/<name>:<key>` of a certificate in an object. */
  target?: string;
  sni?: string;
  subject?: string;
  issuer?: string;
  /** Serial number as uppercase hex, without separators. */
  serial?: string;
  dnsNames?: string[];
  /** Subjects of the certificates above the leaf, in the order they chain. */
  issuerChain?: string[];
  chainLen?: number;
  chainErrors?: string[];
  postureIssues?: string[];
  revocationIssues?: string[];
  tlsVersion?: string;
  cipherSuite?: string;
  keyAlgorithm?: string;
  /** Key size in bits (RSA modulus, EC curve size). */
  keySize?: number;
  signatureAlgorithm?: string;
  selfSigned?: boolean;
  isCA?: boolean;
  /** The main problem in upper snake case (`EXPIRED`, `SECRET_NOT_FOUND`), absent when healthy. */
  findingType?: string;
  policyName?: string;
  notes?: string;
  probeError?: string;
  remediation?: string;
}

/** A discoverer or prober failure that left part of the cluster unchecked. */
export interface ScanError {
  source: SourceKind;
  message: string;
}

/** The result of one scan. */
export interface Snapshot {
  /** RFC 3339 time the scan started. */
  at: string;
  errors: ScanError[];
  findings: Finding[];
}

/** Process exit codes of `trustwatch now`. */
export const EXIT_CODES = {
  ok: 0,
  warn: 1,
  critical: 2,
  error: 3,
} as const;

/** `findingType` of an endpoint that could not be reached or did not complete a handshake. */
export const PROBE_FAILED = "PROBE_FAILED";

/**
 * Returns the exit code for a snapshot: 2 for any critical finding, else 3 for any discovery
 * error or failed probe, else 1 for any warning, else 0. An unreachable endpoint therefore never
 * hides an expired one.
 */
export function exitCodeFor(snapshot: Snapshot): number {
  const findings = snapshot.findings;
  if (findings.some((finding) => finding.severity === "critical")) return EXIT_CODES.critical;
  if (snapshot.errors.length > 0) return EXIT_CODES.error;
  if (findings.some((finding) => finding.findingType === PROBE_FAILED)) return EXIT_CODES.error;
  if (findings.some((finding) => finding.severity === "warn")) return EXIT_CODES.warn;
  return EXIT_CODES.ok;
}

/** Orders findings most severe first, then soonest expiry, then by namespace and name. */
export function compareFindings(a: Finding, b: Finding): number {
  const bySeverity = SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);
  if (bySeverity !== 0) return bySeverity;
  const byExpiry = a.notAfter.localeCompare(b.notAfter);
  if (byExpiry !== 0) return byExpiry;
  return `${a.namespace ?? ""}/${a.name ?? ""}`.localeCompare(
    `${b.namespace ?? ""}/${b.name ?? ""}`,
  );
}
