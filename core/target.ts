/**
 * Targets: where a certificate lives, as discoverers describe it, plus the context that decides
 * how a problem with it is classified. Discoverers produce targets; they never dial or judge.
 *
 * @module
 */
import type { Severity, SourceKind } from "./model.ts";
import type { Endpoint } from "./probe/prober.ts";

/** How the client of an endpoint decides whether to trust it. */
export type TrustSpec =
  /**
   * Verify against these PEM certificates (a caBundle, a kubeconfig CA). `caBundle` marks a
   * Kubernetes `caBundle` field, whose mismatch and expiry get their own finding types.
   */
  | { kind: "anchors"; pem: Uint8Array; origin: string; caBundle?: boolean }
  /** The anchors field is present but unusable; the message gives the reason. */
  | { kind: "invalid"; origin: string; message: string }
  /** Verify against the system's public roots. */
  | { kind: "system" }
  /** The client skips verification (`insecureSkipTLSVerify: true`). */
  | { kind: "skip"; origin: string }
  /**
   * The client's trust is not known (an annotated workload without a CA in its Secret): the
   * chain is checked for order and names, but not against any anchor.
   */
  | { kind: "unknown" };

/** Context every target carries: source, object, criticality and notes. */
export interface TargetContext {
  source: SourceKind;
  namespace?: string;
  name: string;
  /**
   * A fail-closed surface: when its certificate cannot be verified or reached, requests fail
   * (webhooks with `failurePolicy: Fail`, APIServices, the API server, mesh roots).
   */
  failClosed: boolean;
  /** Highest severity a problem may reach (webhooks with `failurePolicy: Ignore` stop at warn). */
  severityCap?: Severity;
  /** Severity to use for any problem instead of the computed one (config or annotation). */
  severityOverride?: Severity;
  /** Short facts for the `notes` field, e.g. "failurePolicy=Fail". */
  notes?: string[];
  /** Facts the remediation text needs, e.g. the kubectl resource and name. */
  ref?: ObjectRef;
  /** The Secret the certificate is read from, or that an endpoint should serve. */
  secretRef?: NamespacedName;
  /** The cert-manager Certificate this target reports on (renewal problems, managed Secrets). */
  certificateRef?: NamespacedName;
}

/** A namespaced object's namespace and name. */
export interface NamespacedName {
  namespace: string;
  name: string;
}

/** A cert-manager Certificate's status, for the cross-finding rules after classification. */
export interface CertificateStatus {
  /** Status of the Ready condition: `True`, `False`, `Unknown`, or absent. */
  ready?: string;
  /** `status.notAfter`, when set. */
  notAfter?: Date;
  /** `status.renewalTime`, when set. */
  renewalTime?: Date;
}

/** The Kubernetes object a target came from, for remediation commands. */
export interface ObjectRef {
  /** kubectl resource name, e.g. `validatingwebhookconfiguration`. */
  resource: string;
  namespace?: string;
  name: string;
}

/** A TLS endpoint to handshake with. */
export interface EndpointTarget extends TargetContext {
  kind: "endpoint";
  endpoint: Endpoint;
  /** Names the client checks the certificate against (service DNS name, URL host). */
  expectedNames: string[];
  trust: TrustSpec;
  /**
   * `tls.crt` of the Secret the endpoint should serve (`secretRef`), so a served certificate that
   * differs from the stored one is reported as not reloaded.
   */
  storedCertificate?: Uint8Array;
}

/** Certificates stored in an object (a Secret key, a ConfigMap key, a caBundle field). */
export interface MaterialTarget extends TargetContext {
  kind: "material";
  /** Source object of the bytes, e.g. `secret payments/api-tls` (with `key` `tls.crt`). */
  objectLabel: string;
  key: string;
  bytes: Uint8Array;
  /** PEM of the CAs stored beside the certificate (`ca.crt`), used as chain anchors. */
  anchors?: Uint8Array;
  /** Host names the leaf must cover (Ingress hosts). */
  expectedNames?: string[];
  /** Report only the first certificate (the serving leaf) instead of every one in the bundle. */
  leafOnly?: boolean;
  /** Parse the bytes as a caBundle (PEM, or PEM encoded once more in base64, or DER). */
  caBundle?: boolean;
  /**
   * Anchors the first certificate must chain to even when it is a CA (a mesh issuer and its trust
   * roots), with the intermediates that may sit between them.
   */
  chainTo?: { anchors: Uint8Array; intermediates?: Uint8Array; origin: string };
  /** The status of the cert-manager Certificate that manages these bytes. */
  certificateStatus?: CertificateStatus;
}

/** A problem found from the object alone, with no certificate to read (a missing Secret). */
export interface ProblemTarget extends TargetContext {
  kind: "problem";
  findingType: string;
  message: string;
  target?: string;
  /** When the condition began, for problems judged by how long they last. */
  since?: Date;
}

/** Anything a discoverer yields. */
export type Target = EndpointTarget | MaterialTarget | ProblemTarget;

/** Returns the Secret a target's certificate is read from, or that its endpoint should serve. */
export function secretOf(target: Target): NamespacedName | undefined {
  if (target.secretRef) return target.secretRef;
  if (target.ref?.resource === "secret" && target.ref.namespace) {
    return { namespace: target.ref.namespace, name: target.ref.name };
  }
  if (target.kind !== "material") return undefined;
  const match = /^secret ([^/\s]+)\/(\S+)$/.exec(target.objectLabel);
  return match ? { namespace: match[1], name: match[2] } : undefined;
}
