import assert from "node:assert/strict";
import type { KubeObject } from "./resources.ts";
import { parseFieldSelector, parseLabelSelector, SelectorError } from "./selectors.ts";

function object(labels?: Record<string, string>, type?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "a", namespace: "ns", ...(labels ? { labels } : {}) },
    ...(type ? { type } : {}),
  };
}

Deno.test("parseFieldSelector accepts =, == and !=", () => {
  const tls = object(undefined, "kubernetes.io/tls");
  assert.equal(parseFieldSelector("type=kubernetes.io/tls", "secrets")(tls), true);
  assert.equal(parseFieldSelector("type==kubernetes.io/tls", "secrets")(tls), true);
  assert.equal(parseFieldSelector("type!=kubernetes.io/tls", "secrets")(tls), false);
  assert.equal(parseFieldSelector("metadata.name=a,metadata.namespace=ns", "secrets")(tls), true);
  assert.equal(parseFieldSelector("metadata.namespace=other", "secrets")(tls), false);
});

Deno.test("parseFieldSelector rejects unsupported fields", () => {
  assert.throws(
    () => parseFieldSelector("type=Opaque", "configmaps"),
    new SelectorError("field label not supported: type"),
  );
  assert.throws(() => parseFieldSelector("spec.foo=1", "secrets"), SelectorError);
  assert.throws(() => parseFieldSelector("type", "secrets"), SelectorError);
});

Deno.test("parseLabelSelector matches Kubernetes semantics", () => {
  const labeled = object({ app: "web", "app.kubernetes.io/name": "api" });
  const unlabeled = object();
  const cases: [string, boolean, boolean][] = [
    ["app=web", true, false],
    ["app==web", true, false],
    ["app!=web", false, true],
    ["app", true, false],
    ["!app", false, true],
    ["app in (web, db)", true, false],
    ["app notin (web,db)", false, true],
    ["app.kubernetes.io/name=api,app=web", true, false],
    ["", true, true],
  ];
  for (const [selector, labeledMatches, unlabeledMatches] of cases) {
    const matches = parseLabelSelector(selector);
    assert.equal(matches(labeled), labeledMatches, `${selector} on labeled`);
    assert.equal(matches(unlabeled), unlabeledMatches, `${selector} on unlabeled`);
  }
});

Deno.test("parseLabelSelector rejects malformed requirements", () => {
  for (const selector of ["app in ()", "=web", "app in web", "app=(web)"]) {
    assert.throws(() => parseLabelSelector(selector), SelectorError, selector);
  }
});
