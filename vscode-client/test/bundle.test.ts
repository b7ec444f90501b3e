import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { BUILT_TARGETS, chooseBundle, loadManifest, parseManifest, type BundleManifest } from "../src/bundle";
import type { PythonRuntime } from "../src/pythonRuntime";

const MANIFEST: BundleManifest = { target: "linux-x64", abis: ["cp310", "cp311", "cp312", "cp313"], version: "0.2.0" };
const LIBS = path.join("/ext", "bundled", "libs");
const SHOWN = '"/opt/py/bin/python" (from the "clineBridge.interpreter" setting)';
const USE_ANOTHER =
  'Set "clineBridge.interpreter" to a CPython 3.10, 3.11, 3.12 or 3.13 interpreter, ' +
  'e.g. ["/usr/bin/python3.13"] or ["${workspaceFolder}/.venv/bin/python"].';

function runtime(version: string, overrides: Partial<PythonRuntime> = {}): PythonRuntime {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return { version, major, minor, implementation: "cpython", freeThreaded: false, target: "linux-x64", ...overrides };
}

function choose(python: PythonRuntime, manifest: BundleManifest = MANIFEST) {
  return chooseBundle(manifest, LIBS, python, SHOWN);
}

function refusal(python: PythonRuntime, manifest: BundleManifest = MANIFEST): string {
  const choice = choose(python, manifest);
  assert.ok(!choice.ok, `expected a refusal, got ${JSON.stringify(choice)}`);
  return choice.message;
}

describe("chooseBundle", () => {
  for (const minor of [10, 11, 12, 13]) {
    it(`puts libs/cp3${minor} and then libs/common on the path for CPython 3.${minor}`, () => {
      assert.deepEqual(choose(runtime(`3.${minor}.1`)), {
        ok: true,
        bundle: {
          abi: `cp3${minor}`,
          target: "linux-x64",
          version: "0.2.0",
          libs: [path.join(LIBS, `cp3${minor}`), path.join(LIBS, "common")],
        },
      });
    });
  }

  it("calls Python 3.9 too old, naming the versions carried and the fix", () => {
    assert.equal(
      refusal(runtime("3.9.18")),
      `Cline Bridge cannot start: ${SHOWN} is Python 3.9.18, which is too old: this VSIX carries its ` +
        `libraries for CPython 3.10, 3.11, 3.12 or 3.13 (linux-x64). ${USE_ANOTHER}`,
    );
  });

  it("calls Python 2 too old", () => {
    assert.match(refusal(runtime("2.7.18")), /is Python 2\.7\.18, which is too old: /);
  });

  it("calls Python 3.14 too new", () => {
    assert.equal(
      refusal(runtime("3.14.0")),
      `Cline Bridge cannot start: ${SHOWN} is Python 3.14.0, which is too new: this VSIX carries its ` +
        `libraries for CPython 3.10, 3.11, 3.12 or 3.13 (linux-x64). ${USE_ANOTHER}`,
    );
  });

  it("names a version missing between the carried ones", () => {
    const gappy = { ...MANIFEST, abis: ["cp310", "cp312"] };
    assert.match(refusal(runtime("3.11.2"), gappy), /is Python 3\.11\.2, which it has no libraries for: .* CPython 3\.10 or 3\.12 /);
  });

  it("refuses a free-threaded build, whose ABI differs", () => {
    const message = refusal(runtime("3.13.0", { freeThreaded: true }));
    assert.match(message, /is the free-threaded build of Python 3\.13\.0 \(cp313t\), whose compiled libraries differ/);
    assert.ok(message.endsWith(USE_ANOTHER));
  });

  it("takes a free-threaded build the manifest carries", () => {
    const choice = choose(runtime("3.13.0", { freeThreaded: true }), { ...MANIFEST, abis: ["cp313", "cp313t"] });
    assert.equal(choice.ok && choice.bundle.abi, "cp313t");
  });

  it("refuses PyPy, saying the libraries are compiled for CPython", () => {
    assert.equal(
      refusal(runtime("3.10.14", { implementation: "pypy" })),
      `Cline Bridge cannot start: ${SHOWN} is PyPy 3.10.14, but the libraries Cline Bridge bundles are ` +
        `compiled for CPython only. ${USE_ANOTHER}`,
    );
  });

  it("sends a Python of another built platform to that platform's VSIX", () => {
    assert.equal(
      refusal(runtime("3.12.1", { target: "darwin-arm64" })),
      `Cline Bridge cannot start: this Cline Bridge VSIX is built for linux-x64, but ${SHOWN} is a ` +
        'Python for darwin-arm64. Install the Cline Bridge VSIX built for darwin-arm64 instead, or set ' +
        '"clineBridge.interpreter" to a CPython 3.10, 3.11, 3.12 or 3.13 interpreter for linux-x64, ' +
        'e.g. ["/usr/bin/python3.13"] or ["${workspaceFolder}/.venv/bin/python"].',
    );
  });

  it("names the built platforms when the Python's has no VSIX", () => {
    const message = refusal(runtime("3.12.1", { target: "alpine-x64" }));
    assert.match(message, /is a Python for alpine-x64\. Cline Bridge is built for linux-x64, linux-arm64, darwin-x64, darwin-arm64 and win32-x64 only\. Set "clineBridge\.interpreter"/);
  });

  it("gives Windows users Windows examples", () => {
    const windows = { ...MANIFEST, target: "win32-x64" };
    const message = refusal(runtime("3.9.1", { target: "win32-x64" }), windows);
    assert.ok(message.endsWith('e.g. ["py", "-3.13"] or ["${workspaceFolder}/.venv/Scripts/python.exe"].'), message);
  });

  it("knows the targets make vsix-all builds", () => {
    assert.deepEqual(BUILT_TARGETS, ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"]);
  });
});

describe("parseManifest", () => {
  it("accepts the build's manifest, ABIs sorted by version", () => {
    const manifest = parseManifest({ target: "linux-x64", abis: ["cp313", "cp310", "cp39"], version: "0.2.0", python: ">=3.10,<3.14" });
    assert.deepEqual(manifest, { target: "linux-x64", abis: ["cp39", "cp310", "cp313"], version: "0.2.0" });
  });

  it("says what is wrong", () => {
    assert.equal(parseManifest([]), "it is not an object");
    assert.equal(parseManifest({ abis: ["cp312"], version: "1" }), '"target" is not a platform name');
    assert.equal(parseManifest({ target: "linux-x64", abis: [], version: "1" }), '"abis" is not a list of CPython ABI names such as "cp312"');
    assert.equal(parseManifest({ target: "linux-x64", abis: ["py3"], version: "1" }), '"abis" is not a list of CPython ABI names such as "cp312"');
    assert.equal(parseManifest({ target: "linux-x64", abis: ["cp312"] }), '"version" is not a string');
  });
});

describe("loadManifest (real folders)", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "cline-bridge-bundle-test-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  let count = 0;

  /** An extension folder with `manifest` (text or object; undefined: none) and the `folders` under bundled/libs. */
  function extension(manifest: unknown, folders: readonly string[] = ["common", ...MANIFEST.abis]): string {
    const folder = path.join(root, `ext-${++count}`);
    for (const name of folders) {
      mkdirSync(path.join(folder, "bundled", "libs", name), { recursive: true });
    }
    mkdirSync(path.join(folder, "bundled"), { recursive: true });
    if (manifest !== undefined) {
      const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
      writeFileSync(path.join(folder, "bundled", "manifest.json"), text);
    }
    return folder;
  }

  function damage(load: Awaited<ReturnType<typeof loadManifest>>): string {
    assert.ok(!load.ok, `expected damage, got ${JSON.stringify(load)}`);
    assert.match(load.message, /^Cline Bridge is damaged and cannot start: /);
    assert.ok(load.message.endsWith("Reinstall the extension (uninstall Cline Bridge, then install it again)."), load.message);
    return load.message;
  }

  it("loads a whole bundle", async () => {
    const folder = extension({ ...MANIFEST, python: ">=3.10,<3.14" });
    assert.deepEqual(await loadManifest(folder), { ok: true, manifest: MANIFEST, libsRoot: path.join(folder, "bundled", "libs") });
  });

  it("calls a missing manifest damage (the old single-folder layout, or a broken install)", async () => {
    const folder = extension(undefined, ["cline_bridge"]);
    const file = path.join(folder, "bundled", "manifest.json");
    assert.match(damage(await loadManifest(folder)), new RegExp(`: ${escape(file)} is missing\\. Reinstall`));
  });

  it("calls a manifest that is not JSON damage", async () => {
    assert.match(damage(await loadManifest(extension("{ not json"))), /manifest\.json is not a valid bundle manifest: it is not JSON \(/);
  });

  it("calls an invalid manifest damage, saying why", async () => {
    const message = damage(await loadManifest(extension({ ...MANIFEST, abis: "cp312" })));
    assert.match(message, /is not a valid bundle manifest: "abis" is not a list of CPython ABI names/);
  });

  it("calls a listed ABI folder that is missing damage", async () => {
    const folder = extension(MANIFEST, ["common", "cp310", "cp311", "cp313"]);
    const libs = path.join(folder, "bundled", "libs", "cp312");
    assert.match(damage(await loadManifest(folder)), new RegExp(`: ${escape(libs)} is missing, though .*manifest\\.json lists it\\.`));
  });

  it("calls a missing common folder damage", async () => {
    assert.match(damage(await loadManifest(extension(MANIFEST, MANIFEST.abis))), /libs[\\/]common is missing/);
  });

  it("calls an unreadable manifest damage", async () => {
    const folder = extension(undefined);
    mkdirSync(path.join(folder, "bundled", "manifest.json"));
    assert.match(damage(await loadManifest(folder)), /manifest\.json cannot be read: /);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
