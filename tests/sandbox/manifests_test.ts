import assert from "node:assert/strict";
import { join } from "node:path";
import { loadManifests, ManifestError, parseManifest } from "./manifests.ts";

Deno.test("parseManifest reads multi-document YAML and skips empty documents", () => {
  const text = [
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
    "",
    "# only a comment\n",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: a\ntype: Opaque\n",
  ].join("---\n");
  const objects = parseManifest(text, "two.yaml");
  assert.deepEqual(objects.map((object) => `${object.kind}/${object.metadata.name}`), [
    "Namespace/a",
    "Secret/s",
  ]);
});

Deno.test("parseManifest flattens List items", () => {
  const text = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: one, namespace: a}
  - apiVersion: v1
    kind: SecretList
    items:
      - apiVersion: v1
        kind: Secret
        metadata: {name: two, namespace: a}
`;
  const objects = parseManifest(text, "list.yaml");
  assert.deepEqual(objects.map((object) => object.metadata.name), ["one", "two"]);
});

Deno.test("parseManifest names the file and document of an invalid object", () => {
  const text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\nkind: Secret\n" +
    "apiVersion: v1\nmetadata: {}\n";
  assert.throws(
    () => parseManifest(text, "broken.yaml"),
    new ManifestError("broken.yaml: document 1: Secret is missing metadata.name"),
  );
  assert.throws(
    () => parseManifest("metadata: {name: x}\n", "nokind.yaml"),
    new ManifestError("nokind.yaml: document 0: missing kind"),
  );
  assert.throws(() => parseManifest("a: [\n", "syntax.yaml"), /syntax\.yaml: document 0/);
});

Deno.test("loadManifests walks directories for YAML files only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "trustwatch-manifests-" });
  try {
    await Deno.mkdir(join(dir, "nested", "deeper"), { recursive: true });
    const namespace = (name: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
    await Deno.writeTextFile(join(dir, "b.yaml"), namespace("b"));
    await Deno.writeTextFile(join(dir, "a.yml"), namespace("a"));
    await Deno.writeTextFile(join(dir, "nested", "deeper", "c.YAML"), namespace("c"));
    await Deno.writeTextFile(join(dir, "notes.txt"), namespace("ignored"));
    await Deno.writeTextFile(join(dir, "explicit.txt"), namespace("explicit"));

    const fromDir = await loadManifests([dir]);
    assert.deepEqual(fromDir.map((object) => object.metadata.name), ["a", "b", "c"]);

    const fromFile = await loadManifests([join(dir, "explicit.txt")]);
    assert.deepEqual(fromFile.map((object) => object.metadata.name), ["explicit"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
