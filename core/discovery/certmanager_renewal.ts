/**
 * cert-manager renewal health: Certificates that are not Ready or whose renewal time passed
 * without a renewal, CertificateRequests that are pending, failed, denied or invalid, ACME
 * Challenges that failed, and CA Certificates that rotate so often that trust bundles cannot keep
 * up. How long a renewal has been pending is carried as `since`; `classify.ts` turns it into a
 * severity.
 *
 * Clusters without cert-manager, or without its ACME resources, are skipped without an error.
 *
 * @module
 */
import { formatTime } from "../analyze.ts";
import { parseDuration } from "../duration.ts";
import type { KubeObject } from "../kube/client.ts";
import type { NamespacedName, ProblemTarget, Target } from "../target.ts";
import { conditionOf, listIfServed, parseTime } from "./_objects.ts";
import { type Discoverer, type DiscoveryContext, requireKube } from "./discoverer.ts";
import { CERT_MANAGER_API } from "./certmanager.ts";

/** API prefix of cert-manager's ACME Orders and Challenges. */
export const ACME_API = "/apis/acme.cert-manager.io/v1";
/** A CA Certificate with a shorter `spec.duration` rotates excessively. */
export const MIN_CA_DURATION_MS = 24 * 3_600_000;
/** Annotation cert-manager sets on a CertificateRequest, naming its Certificate. */
export const CERTIFICATE_NAME_ANNOTATION = "cert-manager.io/certificate-name";
/** Annotation cert-manager sets on a CertificateRequest, with the revision it issues. */
export const CERTIFICATE_REVISION_ANNOTATION = "cert-manager.io/certificate-revision";
/** Challenge states after which the ACME server will not validate it. */
const FAILED_CHALLENGE_STATES = new Set(["errored", "invalid", "expired"]);

interface CertificateSummary {
  ready?: string;
  revision?: number;
}

/** Yields a problem target for every stuck or failed step of a cert-manager renewal. */
export class CertManagerRenewalDiscoverer implements Discoverer {
  readonly source = "certmanager.renewal" as const;
  readonly needsCluster = true;

  async *discover(context: DiscoveryContext): AsyncIterable<Target> {
    requireKube(context);
    const certificates = new Map<string, CertificateSummary>();
    for await (
      const certificate of listIfServed(context, this.source, CERT_MANAGER_API, "certificates")
    ) {
      const { namespace, name } = certificate.metadata;
      certificates.set(`${namespace}/${name}`, {
        ready: conditionOf(certificate, "Ready")?.status,
        revision: typeof certificate.status?.revision === "number"
          ? certificate.status.revision
          : undefined,
      });
      yield* this.#certificateProblems(certificate);
    }
    for await (
      const request of listIfServed(context, this.source, CERT_MANAGER_API, "certificaterequests")
    ) {
      const problem = this.#requestProblem(request, certificates);
      if (problem) yield problem;
    }
    for await (const challenge of listIfServed(context, this.source, ACME_API, "challenges")) {
      const problem = this.#challengeProblem(challenge);
      if (problem) yield problem;
    }
  }

  #problem(
    object: KubeObject,
    resource: string,
    findingType: string,
    message: string,
    certificate?: NamespacedName,
  ): ProblemTarget {
    const { name } = object.metadata;
    const namespace = object.metadata.namespace!;
    return {
      source: this.source,
      kind: "problem",
      namespace,
      name,
      failClosed: false,
      ref: { resource, namespace, name },
      certificateRef: certificate,
      target: `${resource}/${name}`,
      findingType,
      message,
    };
  }

  *#certificateProblems(certificate: KubeObject): Iterable<ProblemTarget> {
    const { name } = certificate.metadata;
    const namespace = certificate.metadata.namespace!;
    const reference = { namespace, name };
    const where = `certificate ${namespace}/${name}`;
    const ready = conditionOf(certificate, "Ready");
    const issuing = conditionOf(certificate, "Issuing");

    if (ready?.status === "False") {
      const details = [
        `Ready=False (${ready.reason ?? "no reason"}): ${ready.message ?? "no message"}`,
      ];
      if (issuing?.status === "False" && issuing.reason === "Failed") {
        details.push(`issuance failed: ${issuing.message ?? "no message"}`);
      }
      const attempts = certificate.status?.failedIssuanceAttempts;
      if (typeof attempts === "number") details.push(`${attempts} failed issuance attempts`);
      yield this.#problem(
        certificate,
        "certificate",
        "REQUEST_PENDING",
        `${where} is not ready: ${details.join("; ")}`,
        reference,
      );
    } else {
      const renewalTime = parseTime(certificate.status?.renewalTime);
      if (renewalTime && renewalTime.getTime() < Date.now()) {
        const problem = this.#problem(
          certificate,
          "certificate",
          "RENEWAL_STALLED",
          `${where}: renewal was due ${formatTime(renewalTime)} and has not completed` +
            (issuing?.status === "True"
              ? ` (Issuing=True: ${issuing.message ?? issuing.reason})`
              : ""),
          reference,
        );
        problem.since = renewalTime;
        yield problem;
      }
    }

    const duration = certificate.spec?.duration;
    if (certificate.spec?.isCA === true && typeof duration === "string") {
      const durationMs = parseDurationQuietly(duration);
      if (durationMs !== undefined && durationMs < MIN_CA_DURATION_MS) {
        yield this.#problem(
          certificate,
          "certificate",
          "EXCESSIVE_ROTATION",
          `${where} is a CA with spec.duration ${duration}: every rotation must reach every ` +
            "client's trust bundle, which a CA rotated more than once a day rarely does",
          reference,
        );
      }
    }
  }

  #requestProblem(
    request: KubeObject,
    certificates: Map<string, CertificateSummary>,
  ): ProblemTarget | undefined {
    const namespace = request.metadata.namespace!;
    const where = `certificaterequest ${namespace}/${request.metadata.name}`;
    const certificate = certificateOf(request);
    const owner = certificate ? certificates.get(`${namespace}/${certificate.name}`) : undefined;
    const revision = Number(request.metadata.annotations?.[CERTIFICATE_REVISION_ANNOTATION]);
    // An old request of a revision that was issued since is history, not a problem.
    if (owner?.ready === "True" && owner.revision !== undefined && revision <= owner.revision) {
      return undefined;
    }

    const denied = conditionOf(request, "Denied");
    if (denied?.status === "True") {
      return this.#problem(
        request,
        "certificaterequest",
        "REQUEST_DENIED",
        `${where} was denied: ${denied.message ?? denied.reason ?? "no message"}`,
        certificate,
      );
    }
    const invalid = conditionOf(request, "InvalidRequest");
    if (invalid?.status === "True") {
      return this.#problem(
        request,
        "certificaterequest",
        "REQUEST_INVALID",
        `${where} is invalid: ${invalid.message ?? invalid.reason ?? "no message"}`,
        certificate,
      );
    }
    const ready = conditionOf(request, "Ready");
    if (ready?.status === "True") return undefined;
    if (ready?.status === "False" && ready.reason === "Failed") {
      return this.#problem(
        request,
        "certificaterequest",
        "REQUEST_FAILED",
        `${where} failed${
          request.status?.failureTime ? ` at ${request.status.failureTime}` : ""
        }: ${ready.message ?? "no message"}`,
        certificate,
      );
    }

    const since = createdAt(request);
    const problem = this.#problem(
      request,
      "certificaterequest",
      "RENEWAL_STALLED",
      `${where} pending${since ? ` since ${formatTime(since)}` : ""}: ${
        ready?.message ?? "no Ready condition yet"
      }`,
      certificate,
    );
    problem.since = since;
    return problem;
  }

  #challengeProblem(challenge: KubeObject): ProblemTarget | undefined {
    const state: unknown = challenge.status?.state;
    if (typeof state !== "string" || !FAILED_CHALLENGE_STATES.has(state)) return undefined;
    const namespace = challenge.metadata.namespace!;
    return this.#problem(
      challenge,
      "challenge",
      "CHALLENGE_FAILED",
      `challenge ${namespace}/${challenge.metadata.name} for ${
        challenge.spec?.dnsName ?? "an unknown name"
      } is ${state}: ${challenge.status?.reason ?? "no reason"}`,
    );
  }
}

function certificateOf(request: KubeObject): NamespacedName | undefined {
  const namespace = request.metadata.namespace!;
  const annotated = request.metadata.annotations?.[CERTIFICATE_NAME_ANNOTATION];
  if (annotated) return { namespace, name: annotated };
  const owners: unknown = request.metadata.ownerReferences;
  if (!Array.isArray(owners)) return undefined;
  const owner = owners.find((reference) => reference?.kind === "Certificate");
  return owner?.name ? { namespace, name: owner.name } : undefined;
}

/**
 * Returns the earliest of an object's creation time and its condition changes. No condition can
 * change before creation, so this is the creation time even where a restore or copy reset
 * `creationTimestamp`.
 */
function createdAt(object: KubeObject): Date | undefined {
  const conditions: unknown[] = Array.isArray(object.status?.conditions)
    ? object.status.conditions
    : [];
  const times = [
    parseTime(object.metadata.creationTimestamp),
    ...conditions.map((condition) =>
      parseTime((condition as { lastTransitionTime?: unknown } | null)?.lastTransitionTime)
    ),
  ].filter((time): time is Date => time !== undefined);
  return times.length > 0 ? new Date(Math.min(...times.map((time) => time.getTime()))) : undefined;
}

function parseDurationQuietly(value: string): number | undefined {
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}
