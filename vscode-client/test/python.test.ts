import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkInterpreter,
  chooseInterpreter,
  execCommand,
  findPython,
  formatCommand,
  describeInterpreter,
  resolveVariables,
  type Interpreter,
  type PythonLookup,
  type RunCommand,
} from "../src/python";
import { PROBE_SCRIPT } from "../src/pythonRuntime";
import { fakeExtension, probeOutput, recordingLogger, registry } from "./fakes";

const PYTHON_EXT = "ms-python.python";

function lookup(overrides: Partial<PythonLookup> = {}): PythonLookup {
  return {
    setting: [],
    workspaceFolder: "/ws",
    userHome: "/home/me",
    extensions: registry({}),
    log: recordingLogger(),
    ...overrides,
  };
}

function pythonExtensionApi(executable: string | undefined, execCommand?: string[]) {
  const seen: unknown[] = [];
  return {
    seen,
    environments: {
      getActiveEnvironmentPath(resource?: unknown) {
        seen.push(resource);
        return { id: "venv", path: "/ws/.venv" };
      },
      async resolveEnvironment(environment: unknown) {
        assert.deepEqual(environment, { id: "venv", path: "/ws/.venv" });
        return executable ? { executable: { uri: { fsPath: executable } } } : undefined;
      },
    },
    settings: {
      getExecutionDetails() {
        return { execCommand };
      },
    },
  };
}

function fakeRun(answer: string | Error): RunCommand & { calls: [string, readonly string[]][] } {
  const calls: [string, readonly string[]][] = [];
  const run = async (command: string, args: readonly string[]) => {
    calls.push([command, args]);
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  };
  return Object.assign(run, { calls });
}

const fromSetting: Interpreter = { command: ["/opt/py/bin/python", "-X", "utf8"], source: "setting", reason: 'the "clineBridge.interpreter" setting' };

describe("chooseInterpreter", () => {
  it("prefers the setting, resolving ${workspaceFolder} and ${userHome}, over the Python extension", async () => {
    const python = fakeExtension({ exports: pythonExtensionApi("/ws/.venv/bin/python") });
    const extensions = registry({ [PYTHON_EXT]: python });
    const choice = await chooseInterpreter(
      lookup({ setting: ["${workspaceFolder}/.venv/bin/python", "-X", "${userHome}/x"], extensions }),
    );
    assert.deepEqual(choice.command, ["/ws/.venv/bin/python", "-X", "/home/me/x"]);
    assert.equal(choice.source, "setting");
    assert.deepEqual(extensions.asked, [], "the Python extension is not consulted");
  });

  it("accepts a plain string setting as a one-word command", async () => {
    const choice = await chooseInterpreter(lookup({ setting: "/usr/bin/python3.12" }));
    assert.deepEqual(choice.command, ["/usr/bin/python3.12"]);
    assert.equal(choice.source, "setting");
  });

  it("ignores a malformed setting with a warning", async () => {
    const log = recordingLogger();
    const choice = await chooseInterpreter(lookup({ setting: [42], log }));
    assert.equal(choice.source, "path");
    assert.ok(log.lines.some((line) => line.startsWith("warn: Ignoring")), log.lines.join("\n"));
  });

  it("uses the Python extension's active environment, activating it and passing the resource", async () => {
    const api = pythonExtensionApi("/ws/.venv/bin/python");
    const python = fakeExtension({ exports: api, isActive: false });
    const choice = await chooseInterpreter(lookup({ extensions: registry({ [PYTHON_EXT]: python }), resource: "folder-uri" }));
    assert.deepEqual(choice.command, ["/ws/.venv/bin/python"]);
    assert.equal(choice.source, "python-extension");
    assert.match(choice.reason, /active environment \(\/ws\/\.venv\)/);
    assert.equal(python.activations, 1);
    assert.deepEqual(api.seen, ["folder-uri"]);
  });

  it("falls back to the Python extension's execution details", async () => {
    const python = fakeExtension({ exports: pythonExtensionApi(undefined, ["conda", "run", "-n", "x", "python"]) });
    const choice = await chooseInterpreter(lookup({ extensions: registry({ [PYTHON_EXT]: python }) }));
    assert.deepEqual(choice.command, ["conda", "run", "-n", "x", "python"]);
    assert.equal(choice.source, "python-extension");
  });

  it("falls back to python3 when the Python extension is missing", async () => {
    const choice = await chooseInterpreter(lookup());
    assert.deepEqual(choice.command, ["python3"]);
    assert.equal(choice.source, "path");
  });

  it("falls back to python3, without throwing, when the Python extension is broken", async () => {
    const log = recordingLogger();
    const broken = fakeExtension({ exports: {}, isActive: false, activateError: new Error("kaput") });
    const throwing = fakeExtension({
      exports: {
        environments: {
          getActiveEnvironmentPath() {
            throw new Error("no envs");
          },
          resolveEnvironment: async () => undefined,
        },
      },
    });
    for (const extension of [broken, throwing]) {
      const choice = await chooseInterpreter(lookup({ extensions: registry({ [PYTHON_EXT]: extension }), log }));
      assert.deepEqual(choice.command, ["python3"]);
    }
    assert.ok(log.lines.includes("warn: Could not ask the Python extension for its environment: kaput"), log.lines.join("\n"));
    assert.ok(log.lines.includes("warn: Could not ask the Python extension for its environment: no envs"), log.lines.join("\n"));
  });
});


describe("checkInterpreter", () => {
  it("runs the probe with the interpreter's own arguments and reports version, implementation and platform", async () => {
    const run = fakeRun(`${probeOutput({ version: "3.10.0" })}\n`);
    const check = await checkInterpreter(fromSetting, run);
    assert.deepEqual(check, {
      ok: true,
      interpreter: fromSetting,
      runtime: { version: "3.10.0", major: 3, minor: 10, implementation: "cpython", freeThreaded: false, target: "linux-x64" },
    });
    assert.equal(run.calls.length, 1);
    const [command, args] = run.calls[0]!;
    assert.equal(command, "/opt/py/bin/python");
    assert.deepEqual(args, ["-X", "utf8", "-c", PROBE_SCRIPT]);
  });

  it("accepts the answer after other output", async () => {
    const check = await checkInterpreter(fromSetting, fakeRun(`conda noise\n${probeOutput()}\n`));
    assert.equal(check.ok && check.runtime.version, "3.12.4");
  });

  it("leaves the judgement of old versions to the bundle: Python 2 answers too", async () => {
    const check = await checkInterpreter(fromSetting, fakeRun(probeOutput({ version: "2.7.18" })));
    assert.ok(check.ok);
    assert.equal(check.runtime.major, 2);
  });

  it("explains an interpreter that cannot run", async () => {
    const check = await checkInterpreter(fromSetting, fakeRun(new Error('"/opt/py/bin/python" was not found')));
    assert.ok(!check.ok);
    assert.match(check.message, /^Cline Bridge cannot start: the Python interpreter "\/opt\/py\/bin\/python -X utf8"/);
    assert.match(check.message, /could not run: "\/opt\/py\/bin\/python" was not found\./);
    assert.match(check.message, /Set "clineBridge\.interpreter"/);
  });

  it("explains output that is not the probe's answer", async () => {
    const check = await checkInterpreter(fromSetting, fakeRun("hello"));
    assert.ok(!check.ok);
    assert.match(check.message, /did not report its version \(printed "hello"\)/);
  });
});

describe("findPython", () => {
  it("logs the choice and the version", async () => {
    const log = recordingLogger();
    const check = await findPython(lookup({ setting: ["/usr/bin/python3"], log, run: fakeRun(probeOutput({ version: "3.11.7" })) }));
    assert.ok(check.ok);
    assert.deepEqual(log.lines, [
      'info: Python interpreter: /usr/bin/python3 (from the "clineBridge.interpreter" setting)',
      "info: Python: cpython 3.11.7 (linux-x64)",
    ]);
  });

  it("logs the error when the check fails", async () => {
    const log = recordingLogger();
    const check = await findPython(lookup({ log, run: fakeRun("not a probe answer") }));
    assert.ok(!check.ok);
    assert.equal(log.lines.at(-1), `error: ${check.message}`);
  });
});

describe("execCommand (real processes)", () => {
  it("returns stdout", async () => {
    assert.equal(await execCommand(process.execPath, ["-e", "process.stdout.write('3.12.1')"]), "3.12.1");
  });

  it("says when the command does not exist", async () => {
    await assert.rejects(execCommand("cline-bridge-no-such-python", ["-c", "0"]), {
      message: '"cline-bridge-no-such-python" was not found',
    });
  });

  it("reports the last stderr line of a failing command", async () => {
    await assert.rejects(execCommand(process.execPath, ["-e", "console.error('first'); console.error('last'); process.exit(3)"]), {
      message: "last",
    });
  });
});

describe("helpers", () => {
  it("resolveVariables leaves unknown or unresolvable variables alone", () => {
    assert.equal(resolveVariables("${workspaceFolder}/${env:X}", { workspaceFolder: undefined, userHome: "/h" }), "${workspaceFolder}/${env:X}");
    assert.equal(resolveVariables("${userHome}/a", { userHome: "/h" }), "/h/a");
  });

  it("describeInterpreter names the command and where it came from", () => {
    assert.equal(describeInterpreter(fromSetting), '"/opt/py/bin/python -X utf8" (from the "clineBridge.interpreter" setting)');
  });

  it("formatCommand quotes what a shell would split", () => {
    assert.equal(formatCommand(["/a b/python", "-m", "x", "it's", ""]), `'/a b/python' -m x 'it'\\''s' ''`);
  });
});
