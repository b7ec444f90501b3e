import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BridgeStatus } from "../src/client";
import type { SidecarCommand } from "../src/commands";
import { TerminalEnv, terminalEnvChange, type StatusSource, type TerminalEnvironment } from "../src/terminalEnv";
import { recordingLogger } from "./fakes";

const FILE = "/run/user/1000/cline-bridge/1234.json";
const NEXT_FILE = "/run/user/1000/cline-bridge/5678.json";

function status(discoveryFile: string | null): Record<string, unknown> {
  return {
    name: "cline-bridge",
    pid: 1234,
    control: discoveryFile === null ? null : { endpoint: "unix:/run/user/1000/cline-bridge/1234.sock", discoveryFile },
  };
}

describe("terminalEnvChange", () => {
  it("sets the discovery file the status names", () => {
    assert.deepEqual(terminalEnvChange(status(FILE)), { kind: "set", discoveryFile: FILE });
  });

  it("deletes when the control endpoint is off or failed", () => {
    assert.deepEqual(terminalEnvChange(status(null)), { kind: "delete", reason: "the sidecar has no control endpoint" });
    assert.deepEqual(terminalEnvChange({ name: "cline-bridge" }), { kind: "delete", reason: "the sidecar has no control endpoint" });
  });

  it("deletes for a status it cannot read", () => {
    for (const answer of [null, "running", [status(FILE)]]) {
      assert.deepEqual(terminalEnvChange(answer), { kind: "delete", reason: "the sidecar's status is not an object" });
    }
    for (const control of ["unix:/x.sock", { endpoint: "unix:/x.sock" }, { discoveryFile: "" }, { discoveryFile: 7 }]) {
      assert.deepEqual(terminalEnvChange({ control }), { kind: "delete", reason: "the sidecar's status names no discovery file" });
    }
  });
});

type Operation = ["replace", string, string] | ["delete", string];

function fakeEnvironment(): TerminalEnvironment & { operations: Operation[] } {
  const operations: Operation[] = [];
  return {
    operations,
    persistent: true,
    description: undefined,
    replace: (variable, value) => operations.push(["replace", variable, value]),
    delete: (variable) => operations.push(["delete", variable]),
  };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A sidecar whose status answers wait until the test settles them, oldest first. */
function fakeSidecar(initial: BridgeStatus["state"] = "stopped") {
  const listeners = new Set<(status: BridgeStatus) => unknown>();
  const pending: Pending[] = [];
  const sent: SidecarCommand[] = [];
  let current: BridgeStatus = { state: initial, detail: "" };
  const sidecar: StatusSource & {
    sent: SidecarCommand[];
    listeners: number;
    fire(state: BridgeStatus["state"]): void;
    answer(value: unknown): Promise<void>;
    fail(error: Error): Promise<void>;
  } = {
    sent,
    get status() {
      return current;
    },
    get listeners() {
      return listeners.size;
    },
    onDidChangeStatus(listener) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
    executeCommand(request) {
      sent.push(request);
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    },
    fire(state) {
      current = { state, detail: "" };
      [...listeners].forEach((listener) => listener(current));
    },
    async answer(value) {
      const next = pending.shift();
      assert.ok(next, "a status request is waiting");
      next.resolve(value);
      await settle();
    },
    async fail(error) {
      const next = pending.shift();
      assert.ok(next, "a status request is waiting");
      next.reject(error);
      await settle();
    },
  };
  return sidecar;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function setup(initial: BridgeStatus["state"] = "stopped") {
  const environment = fakeEnvironment();
  const sidecar = fakeSidecar(initial);
  const log = recordingLogger();
  const env = new TerminalEnv(environment, sidecar, log);
  return { environment, sidecar, log, env };
}

describe("TerminalEnv", () => {
  it("is never persisted, describes itself and starts without CLINE_BRIDGE", () => {
    const { environment, sidecar } = setup();
    assert.equal(environment.persistent, false);
    assert.equal(environment.description, "Lets cline-bridge commands in this terminal reach this window's Cline");
    assert.deepEqual(environment.operations, [["delete", "CLINE_BRIDGE"]]);
    assert.deepEqual(sidecar.sent, [], "a stopped sidecar is not asked");
  });

  it("asks a running sidecar for its status and sets its discovery file", async () => {
    const { environment, sidecar, log } = setup();
    environment.operations.length = 0;
    sidecar.fire("starting");
    sidecar.fire("running");
    assert.deepEqual(sidecar.sent, [{ command: "clineBridge.status", arguments: [] }]);
    await sidecar.answer(status(FILE));
    assert.deepEqual(environment.operations, [["replace", "CLINE_BRIDGE", FILE]]);
    assert.deepEqual(log.lines, [`info: Terminals get CLINE_BRIDGE=${FILE}`]);
  });

  it("asks at once when the sidecar is already running", async () => {
    const { environment, sidecar } = setup("running");
    await sidecar.answer(status(FILE));
    assert.deepEqual(environment.operations.at(-1), ["replace", "CLINE_BRIDGE", FILE]);
  });

  it("removes CLINE_BRIDGE when the sidecar stops, and follows a restart to the new file", async () => {
    const { environment, sidecar, log } = setup();
    sidecar.fire("running");
    await sidecar.answer(status(FILE));
    environment.operations.length = 0;
    log.lines.length = 0;

    sidecar.fire("stopped");
    sidecar.fire("starting");
    assert.deepEqual(environment.operations, [["delete", "CLINE_BRIDGE"]], "deleted once");
    sidecar.fire("running");
    await sidecar.answer(status(NEXT_FILE));
    assert.deepEqual(environment.operations, [
      ["delete", "CLINE_BRIDGE"],
      ["replace", "CLINE_BRIDGE", NEXT_FILE],
    ]);
    assert.deepEqual(log.lines, [
      "info: Terminals no longer get CLINE_BRIDGE: the sidecar is not running",
      `info: Terminals get CLINE_BRIDGE=${NEXT_FILE}`,
    ]);
  });

  it("deletes CLINE_BRIDGE when the sidecar has no control endpoint", async () => {
    const { environment, sidecar, log } = setup();
    sidecar.fire("running");
    await sidecar.answer(status(FILE));
    sidecar.fire("running");
    await sidecar.answer(status(null));
    assert.deepEqual(environment.operations.at(-1), ["delete", "CLINE_BRIDGE"]);
    assert.equal(log.lines.at(-1), "info: Terminals get no CLINE_BRIDGE: the sidecar has no control endpoint");
  });

  it("deletes CLINE_BRIDGE and warns when the status request fails", async () => {
    const { environment, sidecar, log } = setup();
    sidecar.fire("running");
    await sidecar.fail(new Error("the sidecar is not running"));
    assert.deepEqual(environment.operations.at(-1), ["delete", "CLINE_BRIDGE"]);
    assert.deepEqual(log.lines, ["warn: Terminals get no CLINE_BRIDGE: asking the sidecar for its status failed: the sidecar is not running"]);
  });

  it("drops the answer of a sidecar that stopped or restarted in the meantime", async () => {
    const { environment, sidecar } = setup();
    sidecar.fire("running");
    sidecar.fire("stopped");
    await sidecar.answer(status(FILE));
    assert.deepEqual(environment.operations, [["delete", "CLINE_BRIDGE"]], "only the initial delete");

    sidecar.fire("running");
    sidecar.fire("running");
    await sidecar.answer(status(FILE));
    await sidecar.answer(status(NEXT_FILE));
    assert.deepEqual(environment.operations.slice(1), [["replace", "CLINE_BRIDGE", NEXT_FILE]]);
  });

  it("stops listening and removes CLINE_BRIDGE when disposed", async () => {
    const { environment, sidecar, log, env } = setup();
    sidecar.fire("running");
    await sidecar.answer(status(FILE));
    sidecar.fire("running");
    env.dispose();
    await sidecar.answer(status(NEXT_FILE));
    assert.equal(sidecar.listeners, 0);
    assert.deepEqual(environment.operations.slice(1), [
      ["replace", "CLINE_BRIDGE", FILE],
      ["delete", "CLINE_BRIDGE"],
    ]);
    assert.equal(log.lines.at(-1), "info: Terminals no longer get CLINE_BRIDGE: the extension is shutting down");
  });
});
