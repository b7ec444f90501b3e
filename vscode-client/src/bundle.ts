// Which of the VSIX's bundled library folders the sidecar gets. A VSIX is built for one platform
// (its target) and carries the compiled dependencies (pydantic-core) for several CPython versions:
//   bundled/libs/common/   cline_bridge and the dependencies that are the same for every ABI
//   bundled/libs/cp3XY/    the rest, for that CPython minor version on the VSIX's target
//   bundled/manifest.json  {"target": "linux-x64", "abis": ["cp310", ...], "version", "python"}
// Choosing here, from the interpreter's own answer, turns what would be an ImportError deep in the
// sidecar's log into a message that names the mismatch and its fix. The choice is pure; only
// loadManifest touches the disk, once per extension host.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Settings } from "./constants";
import { errorMessage } from "./extensions";
import type { PythonRuntime } from "./pythonRuntime";

export interface BundleManifest {
  /** The VS Code target the VSIX was built for, e.g. `linux-x64`. */
  readonly target: string;
  /** The CPython ABIs it has a `libs/<abi>` folder for, e.g. `["cp310", "cp311", "cp312", "cp313"]`. */
  readonly abis: readonly string[];
  /** The cline-bridge version inside. */
  readonly version: string;
}

export type ManifestLoad =
  | { readonly ok: true; readonly manifest: BundleManifest; readonly libsRoot: string }
  | { readonly ok: false; readonly message: string };

export interface Bundle {
  readonly abi: string;
  readonly target: string;
  readonly version: string;
  /** For PYTHONPATH, in order: the ABI's folder, then the common one. */
  readonly libs: readonly string[];
}

export type BundleChoice = { readonly ok: true; readonly bundle: Bundle } | { readonly ok: false; readonly message: string };

/** The targets `make vsix-all` builds; a Python on another platform has no VSIX to switch to. */
export const BUILT_TARGETS: readonly string[] = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"];

const SETTING = `${Settings.section}.${Settings.interpreter}`;
const ABI = /^cp(\d)(\d+)(t?)$/;
const COMMON = "common";

/** Reads and checks `bundled/manifest.json` and the folders it promises. Never throws. */
export async function loadManifest(extensionPath: string): Promise<ManifestLoad> {
  const bundled = path.join(extensionPath, "bundled");
  const file = path.join(bundled, "manifest.json");
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return damaged(missing ? `${file} is missing` : `${file} cannot be read: ${errorMessage(error)}`);
  }
  let manifest: BundleManifest | string;
  try {
    manifest = parseManifest(JSON.parse(text));
  } catch (error) {
    manifest = `it is not JSON (${errorMessage(error)})`;
  }
  if (typeof manifest === "string") {
    return damaged(`${file} is not a valid bundle manifest: ${manifest}`);
  }
  const libsRoot = path.join(bundled, "libs");
  for (const folder of [COMMON, ...manifest.abis]) {
    const libs = path.join(libsRoot, folder);
    if (!(await isDirectory(libs))) {
      return damaged(`${libs} is missing, though ${file} lists it`);
    }
  }
  return { ok: true, manifest, libsRoot };
}

/** The manifest, or what is wrong with it. */
export function parseManifest(value: unknown): BundleManifest | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "it is not an object";
  }
  const { target, abis, version } = value as Record<string, unknown>;
  if (typeof target !== "string" || target === "") {
    return '"target" is not a platform name';
  }
  if (!Array.isArray(abis) || abis.length === 0 || !abis.every((abi) => typeof abi === "string" && ABI.test(abi))) {
    return '"abis" is not a list of CPython ABI names such as "cp312"';
  }
  if (typeof version !== "string") {
    return '"version" is not a string';
  }
  return { target, abis: [...abis].sort(compareAbis), version };
}

/**
 * The bundle for this interpreter, or a message saying why none fits and what to do. `shown`
 * names the interpreter and where it came from (python.ts `describeInterpreter`).
 */
export function chooseBundle(manifest: BundleManifest, libsRoot: string, runtime: PythonRuntime, shown: string): BundleChoice {
  const versions = versionList(manifest.abis);
  const useAnother = `Set "${SETTING}" to a CPython ${versions} interpreter, e.g. ${examples(manifest)}.`;
  if (runtime.implementation !== "cpython") {
    return refuse(
      `${shown} is ${implementationName(runtime.implementation)} ${runtime.version}, but the libraries ` +
        `Cline Bridge bundles are compiled for CPython only. ${useAnother}`,
    );
  }
  if (runtime.target !== manifest.target) {
    const otherVsix = BUILT_TARGETS.includes(runtime.target)
      ? `Install the Cline Bridge VSIX built for ${runtime.target} instead, or set`
      : `Cline Bridge is built for ${list(BUILT_TARGETS)} only. Set`;
    return refuse(
      `this Cline Bridge VSIX is built for ${manifest.target}, but ${shown} is a Python for ` +
        `${runtime.target}. ${otherVsix} "${SETTING}" to a CPython ${versions} interpreter for ` +
        `${manifest.target}, e.g. ${examples(manifest)}.`,
    );
  }
  const abi = `cp${runtime.major}${runtime.minor}${runtime.freeThreaded ? "t" : ""}`;
  if (!manifest.abis.includes(abi)) {
    const carried = `this VSIX carries its libraries for CPython ${versions} (${manifest.target})`;
    return refuse(`${shown} is ${mismatch(runtime, abi, manifest.abis)}: ${carried}. ${useAnother}`);
  }
  const libs = [path.join(libsRoot, abi), path.join(libsRoot, COMMON)];
  return { ok: true, bundle: { abi, target: manifest.target, version: manifest.version, libs } };
}

function damaged(detail: string): ManifestLoad {
  return {
    ok: false,
    message: `Cline Bridge is damaged and cannot start: ${detail}. Reinstall the extension (uninstall Cline Bridge, then install it again).`,
  };
}

function refuse(reason: string): BundleChoice {
  return { ok: false, message: `Cline Bridge cannot start: ${reason}` };
}

async function isDirectory(folder: string): Promise<boolean> {
  try {
    return (await fs.stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

/** How `runtime` (of ABI `abi`) misses the carried ABIs: too old, too new, or free-threaded. */
function mismatch(runtime: PythonRuntime, abi: string, abis: readonly string[]): string {
  if (runtime.freeThreaded) {
    return `the free-threaded build of Python ${runtime.version} (${abi}), whose compiled libraries differ from the standard build's`;
  }
  const standard = abis.filter((carried) => !carried.endsWith("t"));
  const oldest = standard[0];
  const newest = standard.at(-1);
  if (oldest !== undefined && compareAbis(abi, oldest) < 0) {
    return `Python ${runtime.version}, which is too old`;
  }
  if (newest !== undefined && compareAbis(abi, newest) > 0) {
    return `Python ${runtime.version}, which is too new`;
  }
  return `Python ${runtime.version}, which it has no libraries for`;
}

/** `cp39` < `cp310` < `cp313` < `cp313t`: by major, minor, then standard before free-threaded. */
function compareAbis(a: string, b: string): number {
  const [, aMajor = "0", aMinor = "0", aFree = ""] = ABI.exec(a) ?? [];
  const [, bMajor = "0", bMinor = "0", bFree = ""] = ABI.exec(b) ?? [];
  return Number(aMajor) - Number(bMajor) || Number(aMinor) - Number(bMinor) || aFree.length - bFree.length;
}

/** `3.10, 3.11, 3.12 or 3.13` for the carried ABIs (a free-threaded one as `3.13t`). */
function versionList(abis: readonly string[]): string {
  return list(
    abis.map((abi) => {
      const [, major, minor, free] = ABI.exec(abi) ?? [];
      return `${major}.${minor}${free}`;
    }),
    "or",
  );
}

function list(items: readonly string[], conjunction = "and"): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} ${conjunction} ${items.at(-1)}`;
}

/** Setting values a user on the manifest's platform could write, for its newest carried version. */
function examples(manifest: BundleManifest): string {
  const newest = versionList(manifest.abis.filter((abi) => !abi.endsWith("t")).slice(-1));
  if (manifest.target.startsWith("win32")) {
    return `["py", "-${newest}"] or ["\${workspaceFolder}/.venv/Scripts/python.exe"]`;
  }
  return `["/usr/bin/python${newest}"] or ["\${workspaceFolder}/.venv/bin/python"]`;
}

function implementationName(name: string): string {
  const known: Readonly<Record<string, string>> = { pypy: "PyPy", graalpy: "GraalPy", ironpython: "IronPython", jython: "Jython" };
  return known[name] ?? name;
}
