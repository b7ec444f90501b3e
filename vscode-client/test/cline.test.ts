import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClineForwarder, ClineUnavailableError } from "../src/cline";
import { fakeExtension, recordingApi, registry } from "./fakes";

const CLINE = "saoudrizwan.claude-dev";

async function rejection(promise: Promise<unknown>): Promise<ClineUnavailableError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ClineUnavailableError, `expected ClineUnavailableError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a rejection");
}

describe("ClineForwarder", () => {
  it("tells the installed Cline's version, without activating it", () => {
    const cline = fakeExtension({ exports: recordingApi(), isActive: false, version: "4.1.13" });
    assert.equal(new ClineForwarder(registry({ [CLINE]: cline })).installedVersion(), "4.1.13");
    assert.equal(cline.activations, 0);
    assert.equal(new ClineForwarder(registry({})).installedVersion(), undefined);
  });

  it("reports a missing Cline extension", async () => {
    const extensions = registry({});
    const error = await rejection(new ClineForwarder(extensions).startNewTask({ task: "x" }));
    assert.equal(
      error.message,
      "Cline (saoudrizwan.claude-dev) is not installed. Install the Cline extension to run tasks from Cline Bridge.",
    );
    assert.deepEqual(extensions.asked, [CLINE]);
  });

  it("activates an inactive Cline and uses the exports activate() returns", async () => {
    const api = recordingApi();
    const cline = fakeExtension({ exports: api, isActive: false });
    await new ClineForwarder(registry({ [CLINE]: cline })).pressPrimaryButton();
    assert.equal(cline.activations, 1);
    assert.deepEqual(api.calls, [["pressPrimaryButton", []]]);
  });

  it("does not activate an active Cline again", async () => {
    const api = recordingApi();
    const cline = fakeExtension({ exports: api, isActive: true });
    await new ClineForwarder(registry({ [CLINE]: cline })).pressSecondaryButton();
    assert.equal(cline.activations, 0);
    assert.deepEqual(api.calls, [["pressSecondaryButton", []]]);
  });

  it("reports a failed activation with its reason", async () => {
    const cline = fakeExtension({ exports: recordingApi(), isActive: false, activateError: new Error("boom") });
    const error = await rejection(new ClineForwarder(registry({ [CLINE]: cline })).sendMessage({ message: "hi" }));
    assert.equal(error.message, "Cline (saoudrizwan.claude-dev) failed to activate: boom");
  });

  it("names a missing method and the version it needs", async () => {
    const { startNewTask } = recordingApi();
    const cline = fakeExtension({ exports: { startNewTask }, version: "3.10.0" });
    const forwarder = new ClineForwarder(registry({ [CLINE]: cline }));
    const error = await rejection(forwarder.sendMessage({ message: "hi" }));
    assert.match(error.message, /does not export sendMessage/);
    assert.match(error.message, /Cline 3\.10\.0 is too old or too new/);
    assert.match(error.message, /3\.17\.6/);
    await forwarder.startNewTask({ task: "still works" });
  });

  it("treats exports that are not an object as missing every method", async () => {
    const cline = fakeExtension({ exports: undefined, isActive: false });
    const error = await rejection(new ClineForwarder(registry({ [CLINE]: cline })).pressPrimaryButton());
    assert.match(error.message, /does not export pressPrimaryButton/);
  });

  it("wraps a throw from Cline with the method name", async () => {
    const cline = fakeExtension({ exports: recordingApi("startNewTask") });
    const error = await rejection(new ClineForwarder(registry({ [CLINE]: cline })).startNewTask({ task: "t" }));
    assert.equal(error.message, "Cline's startNewTask failed: refused startNewTask");
  });

  it("passes the exact arguments, with absent and null fields as undefined", async () => {
    const api = recordingApi();
    const forwarder = new ClineForwarder(registry({ [CLINE]: fakeExtension({ exports: api }) }));
    const image = "data:image/png;base64,iVBORw0KGgo=";
    await forwarder.startNewTask({ task: "Fix the bug", images: [image] });
    await forwarder.startNewTask({});
    await forwarder.sendMessage({ message: "yes", images: null });
    await forwarder.sendMessage(null);
    await forwarder.pressPrimaryButton();
    await forwarder.pressSecondaryButton();
    assert.deepEqual(api.calls, [
      ["startNewTask", ["Fix the bug", [image]]],
      ["startNewTask", [undefined, undefined]],
      ["sendMessage", ["yes", undefined]],
      ["sendMessage", [undefined, undefined]],
      ["pressPrimaryButton", []],
      ["pressSecondaryButton", []],
    ]);
  });

  it("keeps `this` bound to Cline's exports object", async () => {
    class ClassApi {
      readonly tasks: (string | undefined)[] = [];
      async startNewTask(task?: string): Promise<void> {
        this.tasks.push(task);
      }
    }
    const api = new ClassApi();
    await new ClineForwarder(registry({ [CLINE]: fakeExtension({ exports: api }) })).startNewTask({ task: "t" });
    assert.deepEqual(api.tasks, ["t"]);
  });
});
