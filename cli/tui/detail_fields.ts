/**
 * The fields of the detail panel: every field of the JSON contract that is set on a finding,
 * labelled, with `notAfter` shown both exactly and relative to now.
 *
 * @module
 */
import { type Finding, ZERO_TIME } from "../../core/model.ts";
import { formatExpiry } from "../output/relative_time.ts";

/** One labelled line of the detail panel. */
export interface DetailField {
  label: string;
  value: string;
}

/** Returns the set fields of a finding in reading order: what, where, certificate, TLS, fix. */
export function detailFields(finding: Finding, now: Date): DetailField[] {
  const fields: [string, string | number | boolean | string[] | undefined][] = [
    ["severity", finding.severity],
    ["findingType", finding.findingType],
    ["source", finding.source],
    ["name", finding.name],
    ["namespace", finding.namespace],
    ["cluster", finding.cluster],
    ["target", finding.target],
    ["sni", finding.sni],
    ["notAfter", notAfterText(finding.notAfter, now)],
    ["subject", finding.subject],
    ["SANs", finding.dnsNames?.join(", ")],
    ["issuer", finding.issuer],
    ["serial", finding.serial],
    ["chain", finding.issuerChain?.join(" → ")],
    ["chainLen", finding.chainLen],
    ["chainErrors", finding.chainErrors?.join("; ")],
    ["posture", finding.postureIssues?.join("; ")],
    ["revocation", finding.revocationIssues?.join("; ")],
    ["tlsVersion", finding.tlsVersion],
    ["cipherSuite", finding.cipherSuite],
    ["key", keyText(finding)],
    ["signature", finding.signatureAlgorithm],
    ["selfSigned", finding.selfSigned],
    ["isCA", finding.isCA],
    ["probeOk", finding.probeOk],
    ["policyName", finding.policyName],
    ["notes", finding.notes],
    ["error", finding.probeError],
    ["remediation", finding.remediation],
  ];
  return fields
    .filter(([, value]) => value !== undefined && value !== "")
    .map(([label, value]) => ({ label, value: String(value) }));
}

function notAfterText(notAfter: string, now: Date): string | undefined {
  if (notAfter === ZERO_TIME) return undefined;
  return `${notAfter} (${formatExpiry(notAfter, now)})`;
}

function keyText(finding: Finding): string | undefined {
  if (!finding.keyAlgorithm) return undefined;
  return finding.keySize ? `${finding.keyAlgorithm} ${finding.keySize} bits` : finding.keyAlgorithm;
}
