/**
 * Trust anchors of an endpoint (caBundle, kubeconfig CA, public roots) and the problem that names
 * why a served chain does not verify against them.
 *
 * @module
 */
import { rootCertificates } from "node:tls";
import { type CertificateFacts, decodeCaBundle, parseCertificateBundle } from "../x509/mod.ts";
import type { TrustSpec } from "../target.ts";
import { formatTime, type Problem } from "./assessment.ts";

let systemRoots: CertificateFacts[] | undefined;

/** Returns the public roots Deno trusts, parsed once. */
export function systemAnchors(): CertificateFacts[] {
  systemRoots ??= rootCertificates.flatMap((pem) =>
    parseAnchorsQuietly(new TextEncoder().encode(pem))
  );
  return systemRoots;
}

export function parseAnchorsQuietly(bytes: Uint8Array): CertificateFacts[] {
  try {
    return parseCertificateBundle(bytes).certificates;
  } catch {
    return [];
  }
}

/** Returns the anchors of a trust spec, or undefined when nothing is verified; adds problems. */
export function anchorsFor(trust: TrustSpec, problems: Problem[]): CertificateFacts[] | undefined {
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
export function untrustedChainProblem(
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

export function describeEncoding(encoding: string): string {
  return encoding === "der"
    ? "DER"
    : encoding === "base64-pem"
    ? "base64-encoded PEM (encoded twice)"
    : encoding;
}

export function isLeafDateError(error: string): boolean {
  return /^leaf (expired|not yet valid)/.test(error);
}

/**
 * Returns the chain errors that make a problem: leaf dates are judged by classification from
 * `notAfter`, and a self-signed leaf is only a problem when there are anchors it fails to meet
 * (a self-signed Secret or an endpoint of unknown trust is common and deliberate).
 */
export function problemChainErrors(errors: string[], anchors: CertificateFacts[]): string[] {
  return errors.filter((error) =>
    !isLeafDateError(error) && !(anchors.length === 0 && error === SELF_SIGNED_LEAF_ERROR)
  );
}

/** The `verifyChain` error for a leaf that signed itself. */
const SELF_SIGNED_LEAF_ERROR = "self-signed leaf";
