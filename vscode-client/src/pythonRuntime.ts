// What an interpreter is, as far as the bundled libraries care: its version, implementation and
// platform, learnt by running it once with PROBE_SCRIPT (python.ts runs it). Pure, so the parsing
// and the platform naming are checked under node tests with the answers of Pythons we do not have.

/**
 * One line, no newlines: `conda run` and some shims mangle multi-line `-c` arguments. It must run
 * on any Python a user may point us at, Python 2.7 included, so that the answer can say "too old"
 * rather than "crashed": hence `getattr(sys, 'implementation', None)` and no f-strings.
 * - `machine` + `bits`: a 32-bit Python on a 64-bit kernel reports the kernel's machine;
 * - `sysconfigPlatform`: on Windows it names the interpreter's own build (`win-amd64`, `win-arm64`,
 *   `win32`), where `platform.machine()` names the operating system's;
 * - `gnuType`: `...-linux-musl` on Alpine, whose Python cannot load manylinux (glibc) wheels;
 * - `freeThreaded`: a free-threaded build (3.13t) has an ABI of its own (`cp313t`).
 */
export const PROBE_SCRIPT =
  "import json, platform, struct, sys, sysconfig; " +
  "i = getattr(sys, 'implementation', None); " +
  "g = sysconfig.get_config_var; " +
  "print(json.dumps({'version': '%d.%d.%d' % tuple(sys.version_info[:3]), " +
  "'implementation': i.name if i else platform.python_implementation().lower(), " +
  "'platform': sys.platform, 'machine': platform.machine(), 'bits': struct.calcsize('P') * 8, " +
  "'sysconfigPlatform': sysconfig.get_platform(), 'gnuType': g('HOST_GNU_TYPE') or '', " +
  "'freeThreaded': bool(g('Py_GIL_DISABLED'))}))";

/** The probe's answer, as the interpreter printed it. */
export interface ProbeAnswer {
  readonly version: string;
  readonly implementation: string;
  readonly platform: string;
  readonly machine: string;
  readonly bits: number;
  readonly sysconfigPlatform: string;
  readonly gnuType: string;
  readonly freeThreaded: boolean;
}

export interface PythonRuntime {
  /** `3.12.1`. */
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  /** `sys.implementation.name`: `cpython`, `pypy`, `graalpy`, ... */
  readonly implementation: string;
  readonly freeThreaded: boolean;
  /**
   * The platform in VS Code's target names (`linux-x64`, `darwin-arm64`, `win32-x64`, `alpine-x64`,
   * ...), which are also the VSIXes' names; `<sys.platform>-<machine>` where VS Code has none.
   */
  readonly target: string;
}

/** The runtime from the probe's output (its last non-empty line), or why there is none. */
export function parseProbe(output: string): PythonRuntime | { readonly error: string } {
  const line = output.trim().split(/\r?\n/).pop()?.trim() ?? "";
  let answer: unknown;
  try {
    answer = JSON.parse(line);
  } catch {
    return { error: `printed ${JSON.stringify(output.trim())}` };
  }
  if (!isProbeAnswer(answer)) {
    return { error: `printed ${JSON.stringify(line)}` };
  }
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(answer.version);
  if (!match) {
    return { error: `printed the version ${JSON.stringify(answer.version)}` };
  }
  return {
    version: answer.version,
    major: Number(match[1]),
    minor: Number(match[2]),
    implementation: answer.implementation.toLowerCase(),
    freeThreaded: answer.freeThreaded,
    target: runtimeTarget(answer),
  };
}

function isProbeAnswer(value: unknown): value is ProbeAnswer {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const answer = value as Record<string, unknown>;
  const strings = ["version", "implementation", "platform", "machine", "sysconfigPlatform", "gnuType"];
  return strings.every((key) => typeof answer[key] === "string") && typeof answer.bits === "number" && typeof answer.freeThreaded === "boolean";
}

/** The interpreter's platform as a VS Code target name (see `PythonRuntime.target`). */
export function runtimeTarget(answer: Omit<ProbeAnswer, "version" | "implementation" | "freeThreaded">): string {
  if (answer.platform === "win32") {
    const windows = WINDOWS_BUILDS[answer.sysconfigPlatform.toLowerCase()];
    return windows ?? `win32-${architecture(answer.machine, answer.bits)}`;
  }
  const arch = architecture(answer.machine, answer.bits);
  if (answer.platform === "darwin") {
    return `darwin-${arch}`;
  }
  if (answer.platform.startsWith("linux")) {
    return `${answer.gnuType.includes("musl") ? "alpine" : "linux"}-${arch}`;
  }
  return `${answer.platform}-${arch}`;
}

/** `sysconfig.get_platform()` of a Windows build: what it was compiled for, not what it runs on. */
const WINDOWS_BUILDS: Readonly<Record<string, string>> = {
  "win-amd64": "win32-x64",
  "win-arm64": "win32-arm64",
  win32: "win32-ia32",
};

/** Node's and VS Code's architecture names (`x64`, `arm64`, `armhf`, `ia32`) for a machine name. */
function architecture(machine: string, bits: number): string {
  const name = machine.toLowerCase();
  if (["x86_64", "amd64", "x64"].includes(name)) {
    return bits === 32 ? "ia32" : "x64";
  }
  if (["aarch64", "arm64", "aarch64_be"].includes(name)) {
    return bits === 32 ? "armhf" : "arm64";
  }
  if (/^armv[6-8]/.test(name) || name === "arm") {
    return "armhf";
  }
  if (/^i[3-6]86$/.test(name) || name === "x86") {
    return "ia32";
  }
  return name || "unknown";
}
