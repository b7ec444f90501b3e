import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execCommand } from "../src/python";
import { parseProbe, PROBE_SCRIPT, runtimeTarget, type ProbeAnswer } from "../src/pythonRuntime";
import { probeAnswer } from "./fakes";

describe("parseProbe", () => {
  it("reads the last line's JSON", () => {
    assert.deepEqual(parseProbe(`a warning\n${JSON.stringify(probeAnswer({ freeThreaded: true, version: "3.13.0" }))}\r\n`), {
      version: "3.13.0",
      major: 3,
      minor: 13,
      implementation: "cpython",
      freeThreaded: true,
      target: "linux-x64",
    });
  });

  it("lower-cases an implementation name from platform.python_implementation() (Python 2)", () => {
    const runtime = parseProbe(JSON.stringify(probeAnswer({ implementation: "CPython", version: "2.7.18" })));
    assert.ok(!("error" in runtime));
    assert.equal(runtime.implementation, "cpython");
  });

  it("says what was printed when it is not an answer", () => {
    assert.deepEqual(parseProbe("3.12.1\n"), { error: 'printed "3.12.1"' });
    assert.deepEqual(parseProbe('{"version": "3.12.1"}'), { error: 'printed "{\\"version\\": \\"3.12.1\\"}"' });
    assert.deepEqual(parseProbe(JSON.stringify(probeAnswer({ version: "3.12" }))), { error: 'printed the version "3.12"' });
    assert.deepEqual(parseProbe(""), { error: 'printed ""' });
  });
});

describe("runtimeTarget", () => {
  const cases: [string, Partial<ProbeAnswer>][] = [
    ["linux-x64", {}],
    ["linux-arm64", { machine: "aarch64", sysconfigPlatform: "linux-aarch64" }],
    ["linux-armhf", { machine: "armv7l", bits: 32 }],
    // A 32-bit Python on a 64-bit kernel reports the kernel's machine.
    ["linux-ia32", { machine: "x86_64", bits: 32 }],
    ["linux-armhf", { machine: "aarch64", bits: 32 }],
    ["alpine-x64", { gnuType: "x86_64-alpine-linux-musl" }],
    ["alpine-arm64", { machine: "aarch64", gnuType: "aarch64-alpine-linux-musl" }],
    ["linux-ppc64le", { machine: "ppc64le" }],
    ["darwin-arm64", { platform: "darwin", machine: "arm64", sysconfigPlatform: "macosx-11.0-arm64" }],
    // A universal2 build names no architecture in sysconfig; the machine it runs as does.
    ["darwin-x64", { platform: "darwin", machine: "x86_64", sysconfigPlatform: "macosx-10.9-universal2" }],
    ["win32-x64", { platform: "win32", machine: "AMD64", sysconfigPlatform: "win-amd64", gnuType: "" }],
    // An x64 Python emulated on Windows on Arm: the build decides, not the machine.
    ["win32-x64", { platform: "win32", machine: "ARM64", sysconfigPlatform: "win-amd64", gnuType: "" }],
    ["win32-arm64", { platform: "win32", machine: "ARM64", sysconfigPlatform: "win-arm64", gnuType: "" }],
    ["win32-ia32", { platform: "win32", machine: "AMD64", bits: 32, sysconfigPlatform: "win32", gnuType: "" }],
    ["freebsd14-x64", { platform: "freebsd14", machine: "amd64", sysconfigPlatform: "freebsd-14.0-RELEASE-amd64" }],
    ["cygwin-x64", { platform: "cygwin", machine: "x86_64" }],
    ["linux-unknown", { machine: "" }],
  ];
  for (const [target, overrides] of cases) {
    it(`${JSON.stringify(overrides)} is ${target}`, () => {
      assert.equal(runtimeTarget(probeAnswer(overrides)), target);
    });
  }
});

describe("PROBE_SCRIPT (a real Python)", () => {
  it("is one line", () => {
    assert.ok(!/[\r\n]/.test(PROBE_SCRIPT));
  });

  it("answers from the python3 on PATH with the platform node runs on", async () => {
    const runtime = parseProbe(await execCommand("python3", ["-c", PROBE_SCRIPT]));
    assert.ok(!("error" in runtime), JSON.stringify(runtime));
    assert.equal(runtime.implementation, "cpython");
    assert.equal(runtime.major, 3);
    const platform = runtime.target.startsWith("alpine-") ? "linux" : runtime.target.split("-")[0];
    assert.equal(`${platform}-${runtime.target.split("-")[1]}`, `${process.platform}-${process.arch}`);
  });
});
