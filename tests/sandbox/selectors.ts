/**
 * Field and label selectors as the Kubernetes list API accepts them in `fieldSelector` and
 * `labelSelector` query parameters.
 *
 * @module
 */
import type { KubeObject } from "./resources.ts";

/** A selector string that the API server rejects with 400 Bad Request. */
export class SelectorError extends Error {
  override name = "SelectorError";
}

/** A compiled selector: returns whether an object matches. */
export type ObjectPredicate = (object: KubeObject) => boolean;

/** Fields every resource supports in a field selector. */
const COMMON_FIELDS: readonly string[] = ["metadata.name", "metadata.namespace"];

/** Extra selectable fields by resource plural, as the core API server registers them. */
const RESOURCE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  secrets: ["type"],
  pods: ["status.phase", "spec.nodeName", "spec.serviceAccountName"],
  events: ["involvedObject.name", "involvedObject.kind", "reason", "type"],
};

/**
 * Compiles a field selector such as `type=kubernetes.io/tls,metadata.namespace!=kube-system`.
 * Supports `=`, `==` and `!=`. Throws SelectorError with the API server's wording
 * (`field label not supported: X`) for a field the resource does not index.
 */
export function parseFieldSelector(selector: string, plural: string): ObjectPredicate {
  const allowed = [...COMMON_FIELDS, ...(RESOURCE_FIELDS[plural] ?? [])];
  const requirements = selector.split(",").filter((part) => part.trim() !== "").map((part) => {
    const match = /^\s*([^!=\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!match) throw new SelectorError(`invalid field selector: ${JSON.stringify(part)}`);
    const [, field, operator, value] = match;
    if (!allowed.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return { field, negated: operator === "!=", value };
  });

  return (object) =>
    requirements.every(({ field, negated, value }) =>
      (fieldValue(object, field) === value) !== negated
    );
}

function fieldValue(object: KubeObject, path: string): string {
  let current: unknown = object;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return "";
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined || current === null ? "" : String(current);
}

type LabelRequirement =
  | { key: string; operator: "exists" | "notExists" }
  | { key: string; operator: "in" | "notIn"; values: string[] };

/**
 * Compiles a label selector: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`,
 * comma-separated. Throws SelectorError for anything else.
 */
export function parseLabelSelector(selector: string): ObjectPredicate {
  const requirements = splitRequirements(selector).map(parseLabelRequirement);

  return (object) => {
    const labels = (object.metadata.labels ?? {}) as Record<string, string>;
    return requirements.every((requirement) => matchesLabel(labels, requirement));
  };
}

function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of selector) {
    if (character === "(") depth += 1;
    if (character === ")") depth -= 1;
    if (character === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += character;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

const LABEL_KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const LABEL_VALUE = String.raw`[-A-Za-z0-9_.]*`;
const SET_PATTERN = new RegExp(`^(${LABEL_KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const EQUALITY_PATTERN = new RegExp(`^(${LABEL_KEY})\\s*(==|!=|=)\\s*(${LABEL_VALUE})$`);
const EXISTS_PATTERN = new RegExp(`^(!?)\\s*(${LABEL_KEY})$`);

function parseLabelRequirement(text: string): LabelRequirement {
  const set = SET_PATTERN.exec(text);
  if (set) {
    const values = set[3].split(",").map((value) => value.trim()).filter((value) => value !== "");
    if (values.length === 0) {
      throw new SelectorError(`unable to parse requirement: ${text}: empty value set`);
    }
    return { key: set[1], operator: set[2] === "in" ? "in" : "notIn", values };
  }

  const equality = EQUALITY_PATTERN.exec(text);
  if (equality) {
    const operator = equality[2] === "!=" ? "notIn" : "in";
    return { key: equality[1], operator, values: [equality[3]] };
  }

  const exists = EXISTS_PATTERN.exec(text);
  if (exists) return { key: exists[2], operator: exists[1] === "!" ? "notExists" : "exists" };

  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(text)}`);
}

function matchesLabel(labels: Record<string, string>, requirement: LabelRequirement): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  switch (requirement.operator) {
    case "exists":
      return present;
    case "notExists":
      return !present;
    case "in":
      return present && requirement.values.includes(labels[requirement.key]);
    case "notIn":
      // A missing label satisfies `!=` and `notin`, as in Kubernetes.
      return !present || !requirement.values.includes(labels[requirement.key]);
  }
}
