/**
 * Kubernetes `Status` error responses, shaped as the API server sends them.
 *
 * @module
 */

/** The `details` block of a Status: which object or resource the error concerns. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
}

/** A Kubernetes Status failure body. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** A Status body with its HTTP code, thrown by request handlers and turned into a response. */
export class StatusError extends Error {
  override name = "StatusError";
  readonly status: Status;

  /** Creates a Status failure with the given code, reason and message. */
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }
}

/** The identity the sandbox's token authenticates as, named in Forbidden messages. */
export const SANDBOX_USER = "sandbox";

/** Returns the 401 Status the API server sends for a missing or wrong bearer token. */
export function unauthorized(): StatusError {
  return new StatusError(401, "Unauthorized", "Unauthorized");
}

/** Returns the 404 Status for a path that names no group, version or resource. */
export function resourceNotFound(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource", {});
}

/** Returns the 404 Status for a missing object, e.g. `secrets "api-tls" not found`. */
export function objectNotFound(group: string, plural: string, name: string): StatusError {
  const resource = group === "" ? plural : `${plural}.${group}`;
  return new StatusError(404, "NotFound", `${resource} "${name}" not found`, {
    name,
    ...(group === "" ? {} : { group }),
    kind: plural,
  });
}

/**
 * Returns the 403 Status RBAC produces, e.g. `secrets is forbidden: User "sandbox" cannot list
 * resource "secrets" in API group "" in the namespace "team-b"`. Without a namespace the message
 * ends `at the cluster scope`.
 */
export function forbidden(
  verb: string,
  group: string,
  plural: string,
  namespace: string | undefined,
  name?: string,
): StatusError {
  const resource = group === "" ? plural : `${plural}.${group}`;
  const subject = name === undefined ? resource : `${resource} "${name}"`;
  const scope = namespace === undefined
    ? "at the cluster scope"
    : `in the namespace "${namespace}"`;
  const message = `${subject} is forbidden: User "${SANDBOX_USER}" cannot ${verb} resource ` +
    `"${plural}" in API group "${group}" ${scope}`;
  return new StatusError(403, "Forbidden", message, {
    ...(name === undefined ? {} : { name }),
    ...(group === "" ? {} : { group }),
    kind: plural,
  });
}

/** Returns the 405 Status for a verb the resource does not support. */
export function methodNotAllowed(method: string, path: string): StatusError {
  return new StatusError(
    405,
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource (${method} ${path})`,
    {},
  );
}

/** Returns a 400 Status with the given message. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}
