/**
 * Certificate analysis: turns a target, and for endpoints the probe result, into findings with
 * every fact of the JSON contract and a list of problems. Severity is not decided here but in
 * `classify.ts`, from the problems and the target's context.
 *
 * @module
 */
export {
  type Assessment,
  certificateFields,
  formatTime,
  type Problem,
  type ProblemType,
} from "./analyze/assessment.ts";
export { assessEndpoint } from "./analyze/endpoint.ts";
export { assessMaterial, assessProblem } from "./analyze/material.ts";
export { MIN_EC_KEY_BITS, MIN_RSA_KEY_BITS } from "./analyze/posture.ts";
