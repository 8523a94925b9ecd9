/**
 * cert-manager Certificates: the certificate each one keeps in its Secret (`spec.secretName`).
 * The Secret's PEM is the source of truth, because it is what workloads load. The Certificate's
 * status (Ready, `notAfter`, `renewalTime`) travels with the target, so post-processing can report
 * a Certificate that reports Ready over an expired Secret, and mark certificates that cert-manager
 * renews on schedule as managed.
 *
 * Clusters without cert-manager are skipped without an error.
 *
 * @module
 */
import type { KubeObject } from "../kube/client.ts";
import type { CertificateStatus, Target, TargetContext } from "../target.ts";
import {
  conditionOf,
  listIfServed,
  parseTime,
  ReadFailure,
  readFailureTarget,
  readObject,
  secretKey,
} from "./_objects.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";

/** API prefix of cert-manager's Certificate and CertificateRequest resources. */
export const CERT_MANAGER_API = "/apis/cert-manager.io/v1";

/** Yields the stored certificate of every cert-manager Certificate, or why there is none. */
export class CertManagerDiscoverer implements Discoverer {
  readonly source = "certmanager" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    requireKube(context);
    for await (
      const certificate of listIfServed(context, this.source, CERT_MANAGER_API, "certificates")
    ) {
      const target = await this.#targetOf(certificate, context);
      if (target) yield target;
    }
  }

  async #targetOf(certificate: KubeObject, context: DiscoveryContext): Promise<Target | undefined> {
    const { name } = certificate.metadata;
    const namespace = certificate.metadata.namespace!;
    const secretName: unknown = certificate.spec?.secretName;
    const base: TargetContext = {
      source: this.source,
      namespace,
      name,
      failClosed: false,
      ref: { resource: "certificate", namespace, name },
      certificateRef: { namespace, name },
    };
    const where = `certificate ${namespace}/${name}`;
    if (typeof secretName !== "string" || secretName === "") {
      return {
        ...base,
        kind: "problem",
        findingType: "CERT_MISSING",
        message: `${where}: spec.secretName is not set`,
      };
    }

    const status = certificateStatus(certificate);
    const label = `secret ${namespace}/${secretName}`;
    const withSecret: TargetContext = {
      ...base,
      secretRef: { namespace, name: secretName },
      notes: [`secret=${secretName}`, `ready=${status.ready ?? "unknown"}`],
    };
    const secret = await readObject(
      requireKube(context),
      "/api/v1",
      "secrets",
      namespace,
      secretName,
      context.signal,
    );
    if (secret instanceof ReadFailure) {
      return readFailureTarget(withSecret, secret, where, secretName);
    }
    if (secret === "not-found") {
      // A Certificate that is not Ready yet is reported by certmanager.renewal with its reason.
      if (status.ready === "False") return undefined;
      return {
        ...withSecret,
        kind: "problem",
        findingType: "SECRET_NOT_FOUND",
        target: secretName,
        message: `${where}: ${label} not found although the Certificate is ${
          status.ready === "True"
            ? "Ready"
            : "not reconciled (no Ready condition): is cert-manager running?"
        }`,
      };
    }

    const bytes = secretKey(secret, "tls.crt");
    if (bytes === undefined) {
      return {
        ...withSecret,
        kind: "problem",
        findingType: "CERT_MISSING",
        target: "tls.crt",
        message: `${where}: ${label} has no tls.crt`,
      };
    }
    if (bytes === "invalid") {
      return {
        ...withSecret,
        kind: "problem",
        findingType: "CERT_UNREADABLE",
        target: "tls.crt",
        message: `${where}: tls.crt of ${label} is not valid base64`,
      };
    }
    const caBytes = secretKey(secret, "ca.crt");
    return {
      ...withSecret,
      kind: "material",
      objectLabel: label,
      key: "tls.crt",
      bytes,
      anchors: caBytes instanceof Uint8Array ? caBytes : undefined,
      expectedNames: requestedNames(certificate),
      leafOnly: true,
      certificateStatus: status,
    };
  }
}

/** Returns the Ready condition, `notAfter` and `renewalTime` of a Certificate's status. */
export function certificateStatus(certificate: KubeObject): CertificateStatus {
  const status: CertificateStatus = {};
  const ready = conditionOf(certificate, "Ready")?.status;
  if (ready) status.ready = ready;
  const notAfter = parseTime(certificate.status?.notAfter);
  if (notAfter) status.notAfter = notAfter;
  const renewalTime = parseTime(certificate.status?.renewalTime);
  if (renewalTime) status.renewalTime = renewalTime;
  return status;
}

function requestedNames(certificate: KubeObject): string[] {
  const names = [
    ...(Array.isArray(certificate.spec?.dnsNames) ? certificate.spec.dnsNames : []),
    ...(Array.isArray(certificate.spec?.ipAddresses) ? certificate.spec.ipAddresses : []),
  ];
  return names.filter((name): name is string => typeof name === "string" && name !== "");
}
