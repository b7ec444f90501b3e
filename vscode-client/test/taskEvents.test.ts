import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeTaskEvent, logTaskEvents, type TaskEvent } from "../src/taskEvents";
import { recordingLogger } from "./fakes";

describe("describeTaskEvent", () => {
  it("gives the steps of a task one line each", () => {
    const id = { taskId: "1796_00001" };
    const lines = [
      { ...id, kind: "started" },
      { ...id, kind: "turnStart", turn: 1 },
      { ...id, kind: "toolCall", title: "editor: write /w/hello.txt", status: "pending" },
      { ...id, kind: "approval", title: "editor: write /w/hello.txt" },
      { ...id, kind: "approvalResolved", outcome: "allowed", source: "button" },
      { ...id, kind: "turnEnd", turn: 1, stopReason: "end_turn" },
      { ...id, kind: "error", message: "Cline's task records cannot be read" },
    ].map(describeTaskEvent);
    assert.deepEqual(lines, [
      "Cline task 1796_00001: started",
      "Cline task 1796_00001: turn 1 started",
      "Cline task 1796_00001: editor: write /w/hello.txt (pending)",
      "Cline task 1796_00001: waiting for approval of editor: write /w/hello.txt",
      "Cline task 1796_00001: approval allowed (button)",
      "Cline task 1796_00001: turn 1 ended (end_turn)",
      "Cline task 1796_00001: Cline's task records cannot be read",
    ]);
  });

  it("leaves streamed text out, and keeps odd fields to one short line", () => {
    assert.equal(describeTaskEvent({ taskId: "t", kind: "message", message: "Hel" }), undefined);
    assert.equal(describeTaskEvent({ kind: "thought" }), undefined);
    const odd: TaskEvent = { taskId: { nested: true }, kind: "error", message: `a\nb ${"x".repeat(500)}` };
    const line = describeTaskEvent(odd) ?? "";
    assert.ok(line.startsWith("Cline task ?: a b x"), line);
    assert.ok(!line.includes("\n") && line.length < 240, line);
  });
});

describe("logTaskEvents", () => {
  it("logs what the sidecar sends, and survives empty params", () => {
    let handler: ((event: TaskEvent) => void) | undefined;
    const log = recordingLogger();
    logTaskEvents(
      {
        onNotification(method, received) {
          assert.equal(method, "clineBridge/taskEvent");
          handler = received;
        },
      },
      log,
    );
    assert.ok(handler);
    handler({ taskId: "t1", kind: "started" });
    handler(undefined as unknown as TaskEvent);
    handler({ taskId: "t1", kind: "message" });
    assert.deepEqual(log.lines, ["info: Cline task t1: started"]);
  });
});
