import assert from "node:assert/strict";
import { parse } from "yaml";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
const MANIFEST = `${REPO_ROOT}krew-manifest.yaml`;
const SCRIPT = `${REPO_ROOT}scripts/fill_krew_sha256.ts`;

const EXPECTED_PLATFORMS = [
  "darwin/amd64",
  "darwin/arm64",
  "linux/amd64",
  "linux/arm64",
  "windows/amd64",
];

interface Platform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
  files: { from: string; to: string }[];
}

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage: string;
    shortDescription: string;
    description: string;
    platforms: Platform[];
  };
}

async function runScript(args: string[]) {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", SCRIPT, ...args],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

async function sha256sum(path: string): Promise<string> {
  const { success, stdout } = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" })
    .output();
  assert.ok(success);
  return new TextDecoder().decode(stdout).split(" ")[0];
}

/** Builds the release archives the manifest names, each with the binary and LICENSE inside. */
async function buildDummyArchives(directory: string, plugin: KrewPlugin): Promise<void> {
  const staging = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${REPO_ROOT}LICENSE`, `${staging}/LICENSE`);
    for (const platform of plugin.spec.platforms) {
      await Deno.writeTextFile(`${staging}/${platform.bin}`, `dummy binary for ${platform.uri}\n`);
      const archive = `${directory}/${platform.uri.split("/").pop()}`;
      const args = archive.endsWith(".zip")
        ? ["python3", "-m", "zipfile", "-c", archive, platform.bin, "LICENSE"]
        : ["tar", "-czf", archive, platform.bin, "LICENSE"];
      const { success, stderr } = await new Deno.Command(args[0], {
        args: args.slice(1),
        cwd: staging,
        stderr: "piped",
      }).output();
      assert.ok(success, new TextDecoder().decode(stderr));
    }
  } finally {
    await Deno.remove(staging, { recursive: true });
  }
}

Deno.test("krew manifest is a Plugin for five platforms", async () => {
  const plugin = parse(await Deno.readTextFile(MANIFEST)) as KrewPlugin;
  assert.equal(plugin.apiVersion, "krew.googlecontainertools.github.com/v1alpha2");
  assert.equal(plugin.kind, "Plugin");
  assert.equal(plugin.metadata.name, "trustwatch");
  assert.match(plugin.spec.version, /^v\d+\.\d+\.\d+$/);
  assert.ok(plugin.spec.shortDescription.length > 0, "shortDescription is set");
  assert.ok(plugin.spec.shortDescription.length <= 60, "krew shows shortDescription on one line");
  assert.match(plugin.spec.description, /kubectl trustwatch now/);

  const labels = plugin.spec.platforms.map((platform) =>
    `${platform.selector.matchLabels.os}/${platform.selector.matchLabels.arch}`
  );
  assert.deepEqual(labels.sort(), EXPECTED_PLATFORMS);

  for (const platform of plugin.spec.platforms) {
    const { os, arch } = platform.selector.matchLabels;
    const windows = os === "windows";
    assert.equal(platform.bin, windows ? "kubectl-trustwatch.exe" : "kubectl-trustwatch");
    assert.ok(platform.files.some((file) => file.from === platform.bin), `${os}/${arch} ships bin`);
    const uri = new URL(platform.uri);
    assert.equal(uri.protocol, "https:");
    assert.ok(
      uri.pathname.endsWith(
        `/releases/download/${plugin.spec.version}/kubectl-trustwatch_${plugin.spec.version}_${os}_${arch}.${
          windows ? "zip" : "tar.gz"
        }`,
      ),
      platform.uri,
    );
  }
});

Deno.test("krew fill script writes sha256 of archives", async () => {
  const directory = await Deno.makeTempDir({ prefix: "trustwatch-krew-" });
  try {
    const plugin = parse(await Deno.readTextFile(MANIFEST)) as KrewPlugin;
    const unfilled = await runScript(["--check"]);
    if (plugin.spec.platforms.some((platform) => !/^[0-9a-f]{64}$/.test(platform.sha256))) {
      assert.equal(unfilled.code, 1, "--check fails while a sha256 is a placeholder");
      assert.match(unfilled.stderr, /sha256 ".*" is not 64 hex digits/);
    }

    const renamed = { ...plugin, spec: { ...plugin.spec } };
    renamed.spec.platforms = plugin.spec.platforms.map((platform) => ({
      ...platform,
      uri: platform.uri.replaceAll(plugin.spec.version, "v9.8.7"),
    }));
    await buildDummyArchives(directory, renamed);
    const output = `${directory}/krew-manifest.yaml`;
    const filled = await runScript(["--version", "v9.8.7", "--output", output, directory]);
    assert.equal(filled.code, 0, filled.stderr);

    const text = await Deno.readTextFile(output);
    assert.doesNotMatch(text, /SHA256_FILLED_AT_RELEASE/);
    assert.match(text, /^# krew plugin manifest/, "comments are kept");
    const result = parse(text) as KrewPlugin;
    assert.equal(result.spec.version, "v9.8.7");
    for (const platform of result.spec.platforms) {
      const archive = `${directory}/${platform.uri.split("/").pop()}`;
      assert.match(platform.uri, /\/download\/v9\.8\.7\/kubectl-trustwatch_v9\.8\.7_/);
      assert.equal(platform.sha256, await sha256sum(archive), platform.uri);
    }
    const check = await runScript(["--check", "--manifest", output]);
    assert.equal(check.code, 0, check.stderr);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("krew fill script leaves no placeholder when an archive is missing", async () => {
  const directory = await Deno.makeTempDir({ prefix: "trustwatch-krew-" });
  try {
    const plugin = parse(await Deno.readTextFile(MANIFEST)) as KrewPlugin;
    await buildDummyArchives(directory, plugin);
    const missing = plugin.spec.platforms.find((platform) =>
      platform.selector.matchLabels.os === "darwin" &&
      platform.selector.matchLabels.arch === "arm64"
    )!;
    await Deno.remove(`${directory}/${missing.uri.split("/").pop()}`);
    const output = `${directory}/krew-manifest.yaml`;

    const run = await runScript(["--output", output, directory]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /left unchanged: platform darwin\/arm64: archive kubectl-trustwatch_.*_darwin_arm64\.tar\.gz not found/,
    );
    await assert.rejects(Deno.stat(output), Deno.errors.NotFound, "nothing is written");

    const badVersion = await runScript(["--version", "1.2", "--output", output, directory]);
    assert.equal(badVersion.code, 1);
    assert.match(badVersion.stderr, /invalid --version "1\.2"/);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
