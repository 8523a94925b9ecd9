import assert from "node:assert/strict";

const REPO_ROOT = new URL("../", import.meta.url).pathname;
/** Folders whose modules ship in the compiled binary. */
const SHIPPED_FOLDERS = ["cli", "core", "server"];

function shippedModules(): string[] {
  const modules: string[] = [];
  const walk = (directory: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(REPO_ROOT + directory)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${directory}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (/\.tsx?$/.test(entry.name)) modules.push(path);
    }
  };
  SHIPPED_FOLDERS.forEach(walk);
  return modules.sort();
}

Deno.test("mod.ts reaches every shipped module, so deno compile includes it", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: REPO_ROOT,
  }).output();
  assert.ok(success, "deno info mod.ts");
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  const reached = new Set(
    graph.modules
      .map((module) => module.specifier)
      .filter((specifier) => specifier.startsWith("file://"))
      .map((specifier) => new URL(specifier).pathname.slice(REPO_ROOT.length)),
  );

  const unreached = shippedModules().filter((module) => !reached.has(module));
  assert.deepEqual(unreached, [], "modules not imported from mod.ts are left out of the binary");
});

Deno.test("shipped modules read no repository files at run time", () => {
  for (const module of shippedModules()) {
    const source = Deno.readTextFileSync(REPO_ROOT + module);
    assert.doesNotMatch(
      source,
      /import\.meta\.(url|dirname|filename)/,
      `${module} resolves files from its own location`,
    );
    assert.doesNotMatch(source, /import\(\s*[^"'\s]/, `${module} has a computed dynamic import`);
  }
});
