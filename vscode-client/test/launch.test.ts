import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { initializationOptions, serverLaunch, type LaunchInputs } from "../src/launch";

const KEY = "sk-test-0123456789abcdef";
const EXTENSION = "/ext/cline-bridge";
const LIBS = [path.join(EXTENSION, "bundled", "libs", "cp312"), path.join(EXTENSION, "bundled", "libs", "common")];

function launch(overrides: Partial<LaunchInputs> = {}) {
  return serverLaunch({
    interpreter: ["/usr/bin/python3", "-X", "utf8"],
    extensionPath: EXTENSION,
    libs: LIBS,
    baseEnv: { PATH: "/usr/bin", HOME: "/home/me" },
    apiKey: undefined,
    ...overrides,
  });
}

describe("serverLaunch", () => {
  it("runs the bundled sidecar as a module from the extension folder, the ABI's libs then the common ones first on PYTHONPATH", () => {
    const result = launch({ baseEnv: { PATH: "/usr/bin", PYTHONPATH: "/mine" } });
    assert.equal(result.command, "/usr/bin/python3");
    assert.deepEqual(result.args, ["-X", "utf8", "-m", "cline_bridge", "serve"]);
    assert.equal(result.cwd, EXTENSION);
    assert.equal(result.env.PYTHONPATH, [...LIBS, "/mine"].join(path.delimiter));
    assert.ok(result.logLines.includes(`Server PYTHONPATH: ${result.env.PYTHONPATH}`));
    assert.equal(result.env.PATH, "/usr/bin");
    assert.equal(result.logLines[0], "Server run command: /usr/bin/python3 -X utf8 -m cline_bridge serve --stdio");
  });

  it("sets PYTHONPATH to the bundle alone when none is inherited", () => {
    assert.equal(launch().env.PYTHONPATH, LIBS.join(path.delimiter));
  });

  it("puts a stored key into the sidecar's environment as CLINE_API_KEY, over an inherited one", () => {
    const baseEnv = { PATH: "/usr/bin", CLINE_API_KEY: "sk-inherited" };
    const result = launch({ apiKey: KEY, baseEnv });
    assert.equal(result.env.CLINE_API_KEY, KEY);
    assert.equal(baseEnv.CLINE_API_KEY, "sk-inherited", "the extension host's environment is not modified");
    assert.ok(result.logLines.some((line) => line === "Cline API key: the key stored with Cline Bridge: Set API Key"));
  });

  it("leaves the inherited environment alone when no key is stored", () => {
    const baseEnv = { PATH: "/usr/bin", CLINE_API_KEY: "sk-inherited" };
    const result = launch({ baseEnv });
    assert.equal(result.env.CLINE_API_KEY, "sk-inherited");
    assert.deepEqual({ ...result.env, PYTHONPATH: undefined }, { ...baseEnv, PYTHONPATH: undefined });
    assert.ok(result.logLines.includes("Cline API key: CLINE_API_KEY inherited from VS Code's environment"));
    assert.ok(!("CLINE_API_KEY" in launch().env), "no variable is invented when there is no key at all");
    assert.ok(launch().logLines.includes("Cline API key: none (Cline Bridge: Set API Key sets one)"));
  });

  it("never logs the key, stored or inherited", () => {
    for (const inputs of [{ apiKey: KEY }, { baseEnv: { CLINE_API_KEY: KEY } }, { apiKey: KEY, baseEnv: { CLINE_API_KEY: KEY } }]) {
      const lines = launch(inputs).logLines;
      assert.ok(lines.length >= 2);
      for (const line of lines) {
        assert.ok(!line.includes(KEY), `logged: ${line}`);
      }
    }
  });
});

describe("initializationOptions", () => {
  const cline = { version: "4.1.13", extensionHostPid: 4242 };

  it("always says clineApi and what it knows of Cline, and adds model and apiBaseUrl only when set", () => {
    const base = { clineApi: true, cline: { installed: true, version: "4.1.13", extensionHostPid: 4242 } };
    assert.deepEqual(initializationOptions({ model: "", baseUrl: undefined }, cline), base);
    assert.deepEqual(initializationOptions({ model: "  ", baseUrl: 42 }, cline), base);
    assert.deepEqual(initializationOptions({ model: " openai/gpt-5 ", baseUrl: "http://127.0.0.1:8080/v1" }, cline), {
      ...base,
      model: "openai/gpt-5",
      apiBaseUrl: "http://127.0.0.1:8080/v1",
    });
  });

  it("says when Cline is not installed", () => {
    const options = initializationOptions({ model: undefined, baseUrl: undefined }, { version: undefined, extensionHostPid: 7 });
    assert.deepEqual(options.cline, { installed: false, extensionHostPid: 7 });
  });

  it("has no place for the key, which the protocol trace would print", () => {
    const options = initializationOptions({ model: "m", baseUrl: "u" }, cline);
    assert.ok(!("apiKey" in options));
  });
});
