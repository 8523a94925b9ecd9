/**
 * Chain verification: builds the path from a served leaf to a trust anchor by issuer name and
 * signature, and lists every problem on the way in stable, human-readable wording.
 *
 * @module
 */
import type { CertificateFacts } from "./certificate.ts";
import { type CertificateStructure, decodeCertificateStructure } from "./_certificate_structure.ts";
import { verifyCertificateSignature } from "./_signature.ts";
import { coversName } from "./names.ts";
import { formatTime } from "../rfc3339.ts";

/** The result of {@linkcode verifyChain}. */
export interface ChainCheck {
  /** Whether a path from the leaf to an anchor exists and every certificate on it is valid at `at`. */
  trusted: boolean;
  /** Problems found, such as "leaf expired 2026-01-02T00:00:00Z", or empty when there are none. */
  errors: string[];
  /** Subjects above the leaf along the built path, in order, the anchor included if reached. */
  issuerChain: string[];
}

/** What {@linkcode verifyChain} checks against. */
export interface VerifyChainOptions {
  /** Trusted CA certificates. Empty means "unknown": no trust decision and no authority errors. */
  anchors: CertificateFacts[];
  /** The time at which every certificate on the path must be valid. */
  at: Date;
  /** Name the leaf must cover (DNS name or IP address). Omitted means no name check. */
  hostname?: string;
}

/** Longest path that is built, counting the leaf and the anchor. */
export const MAX_CHAIN_LENGTH = 10;
/** SANs listed in a "not covered" error before the rest are counted. */
export const MAX_NAMES_IN_MESSAGE = 10;

interface Node {
  facts: CertificateFacts;
  /** Position in `served`, or -1 for a certificate that came only from the anchors. */
  servedIndex: number;
  isAnchor: boolean;
}

/**
 * Verifies the chain a server or Secret presents. `served[0]` is the leaf, the rest may come in
 * any order: a wrong order is reported as "chain out of order" and the path is built anyway.
 * Anchors that also appear in `served` are fine. Never throws.
 *
 * @example
 * ```ts
 * const check = verifyChain(bundle.certificates, { anchors: caBundle.certificates, at: new Date(), hostname: "webhook.ns.svc" });
 * if (!check.trusted) console.log(check.errors.join("; "));
 * ```
 */
export function verifyChain(served: CertificateFacts[], options: VerifyChainOptions): ChainCheck {
  try {
    return new ChainVerifier(served, options).run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { trusted: false, errors: [`chain check failed: ${message}`], issuerChain: [] };
  }
}

class ChainVerifier {
  #served: CertificateFacts[];
  #anchors: CertificateFacts[];
  #anchorFingerprints: Set<string>;
  #options: VerifyChainOptions;
  #structures = new Map<CertificateFacts, CertificateStructure | null>();
  #signatures = new Map<string, boolean>();

  constructor(served: CertificateFacts[], options: VerifyChainOptions) {
    this.#served = served;
    this.#anchors = options.anchors;
    this.#anchorFingerprints = new Set(options.anchors.map((anchor) => anchor.fingerprintSha256));
    this.#options = options;
  }

  run(): ChainCheck {
    if (this.#served.length === 0) {
      return { trusted: false, errors: ["no certificate to verify"], issuerChain: [] };
    }

    const leafIndex = this.#findLeafIndex();
    const { path, reachedAnchor } = this.#buildPath(leafIndex);
    const leaf = path[0].facts;

    const errors: string[] = [];
    if (!this.#isOrdered(path, leafIndex)) errors.push("chain out of order");
    if (leaf.selfSigned && !this.#anchorFingerprints.has(leaf.fingerprintSha256)) {
      errors.push("self-signed leaf");
    }
    const dateErrors = path.flatMap((node, position) => this.#dateErrors(node, position));
    errors.push(...dateErrors);
    if (!reachedAnchor) errors.push(...this.#authorityErrors(path));
    const nameError = this.#nameError(leaf);
    if (nameError) errors.push(nameError);

    return {
      trusted: reachedAnchor && dateErrors.length === 0,
      errors,
      issuerChain: path.slice(1).map((node) => node.facts.subject),
    };
  }

  // served[0] should be the leaf. When it issued another served certificate, the bundle is
  // upside down (CA first), so walk down to the certificate that issued nothing.
  #findLeafIndex(): number {
    let current = 0;
    const visited = new Set([0]);
    for (;;) {
      const child = this.#served.findIndex((candidate, index) =>
        !visited.has(index) && this.#isIssuedBy(candidate, this.#served[current])
      );
      if (child < 0) return current;
      visited.add(child);
      current = child;
    }
  }

  #buildPath(leafIndex: number): { path: Node[]; reachedAnchor: boolean } {
    const leaf = this.#served[leafIndex];
    const path: Node[] = [{ facts: leaf, servedIndex: leafIndex, isAnchor: this.#isAnchor(leaf) }];
    const onPath = new Set([leaf.fingerprintSha256]);

    while (path.length < MAX_CHAIN_LENGTH) {
      const current = path[path.length - 1].facts;
      if (this.#isAnchor(current)) return { path, reachedAnchor: true };

      const anchor = this.#pickIssuer(current, this.#anchors, onPath);
      if (anchor) {
        path.push({ facts: anchor, servedIndex: this.#served.indexOf(anchor), isAnchor: true });
        return { path, reachedAnchor: true };
      }
      if (current.selfSigned) break;

      const intermediate = this.#pickIssuer(current, this.#served, onPath);
      if (!intermediate) break;
      path.push({
        facts: intermediate,
        servedIndex: this.#served.indexOf(intermediate),
        isAnchor: false,
      });
      onPath.add(intermediate.fingerprintSha256);
    }
    return { path, reachedAnchor: false };
  }

  // Among certificates that signed `child`, prefer one valid at `at`: after a CA rotation the
  // old and new CA can share name and key.
  #pickIssuer(
    child: CertificateFacts,
    candidates: CertificateFacts[],
    onPath: Set<string>,
  ): CertificateFacts | undefined {
    const issuers = candidates.filter((candidate) =>
      !onPath.has(candidate.fingerprintSha256) && this.#isIssuedBy(child, candidate)
    );
    return issuers.find((issuer) => this.#isValidAt(issuer)) ?? issuers[0];
  }

  #isOrdered(path: Node[], leafIndex: number): boolean {
    if (leafIndex !== 0) return false;
    const indexes = path.map((node) => node.servedIndex).filter((index) => index >= 0);
    return indexes.every((index, position) => position === 0 || index > indexes[position - 1]);
  }

  #dateErrors(node: Node, position: number): string[] {
    const { facts } = node;
    const label = position === 0 ? "leaf" : `${this.#role(node)} ${describeSubject(facts)}`;
    const at = this.#options.at;
    if (at.getTime() > facts.notAfter.getTime()) {
      return [`${label} expired ${formatTime(facts.notAfter)}`];
    }
    if (at.getTime() < facts.notBefore.getTime()) {
      return [`${label} not yet valid until ${formatTime(facts.notBefore)}`];
    }
    return [];
  }

  #role(node: Node): string {
    if (node.facts.selfSigned) return "root";
    return node.isAnchor ? "trust anchor" : "intermediate";
  }

  #authorityErrors(path: Node[]): string[] {
    const top = path[path.length - 1].facts;
    const hasAnchors = this.#anchors.length > 0;
    if (top.selfSigned) {
      return hasAnchors ? ["unknown authority: chain does not lead to a trusted CA"] : [];
    }

    const signedWhat = path.length === 1 ? "the leaf" : `intermediate ${describeSubject(top)}`;
    const onPath = new Set(path.map((node) => node.facts.fingerprintSha256));
    if (this.#anchors.some((anchor) => anchor.subject === top.issuer)) {
      return [`unknown authority: trust anchor ${top.issuer} did not sign ${signedWhat}`];
    }
    const unused = this.#served.filter((certificate) => !onPath.has(certificate.fingerprintSha256));
    if (unused.some((certificate) => certificate.subject === top.issuer)) {
      return [`wrong intermediate: the served ${top.issuer} did not sign ${signedWhat}`];
    }
    // Servers leave out the root, so a CA at the top is normal. A leaf at the top means a
    // missing intermediate when other certificates were served or anchors were given.
    if (unused.length > 0 || (hasAnchors && !top.isCA)) {
      return [
        `missing intermediate or unknown authority: issuer ${top.issuer} is neither served nor a trusted CA`,
      ];
    }
    if (hasAnchors) {
      return [
        `unknown authority: chain does not lead to a trusted CA (issuer ${top.issuer} is not a trust anchor)`,
      ];
    }
    return [];
  }

  #nameError(leaf: CertificateFacts): string | undefined {
    const hostname = this.#options.hostname;
    if (hostname === undefined || coversName(leaf, hostname)) return undefined;

    const sans = [...leaf.dnsNames, ...leaf.ipAddresses];
    const listedNames = sans.slice(0, MAX_NAMES_IN_MESSAGE);
    if (sans.length > listedNames.length) {
      listedNames.push(`… ${sans.length - listedNames.length} more`);
    }
    const hint = sans.length === 0 ? " (the subject CN is not used for name checks)" : "";
    return `name ${hostname} not covered by SANs [${listedNames.join(", ")}]${hint}`;
  }

  #isAnchor(certificate: CertificateFacts): boolean {
    return this.#anchorFingerprints.has(certificate.fingerprintSha256);
  }

  #isValidAt(certificate: CertificateFacts): boolean {
    const at = this.#options.at.getTime();
    return certificate.notBefore.getTime() <= at && at <= certificate.notAfter.getTime();
  }

  #isIssuedBy(child: CertificateFacts, parent: CertificateFacts): boolean {
    if (child.issuer !== parent.subject) return false;
    const key = `${child.fingerprintSha256}:${parent.fingerprintSha256}`;
    const cached = this.#signatures.get(key);
    if (cached !== undefined) return cached;

    const childStructure = this.#structure(child);
    const parentStructure = this.#structure(parent);
    const verified = childStructure !== null && parentStructure !== null &&
      verifyCertificateSignature(childStructure, parentStructure.subjectPublicKeyInfo);
    this.#signatures.set(key, verified);
    return verified;
  }

  #structure(certificate: CertificateFacts): CertificateStructure | null {
    let structure = this.#structures.get(certificate);
    if (structure === undefined) {
      try {
        structure = decodeCertificateStructure(certificate.der);
      } catch {
        structure = null;
      }
      this.#structures.set(certificate, structure);
    }
    return structure;
  }
}

function describeSubject(certificate: CertificateFacts): string {
  return certificate.subject === "" ? "(empty subject)" : certificate.subject;
}
