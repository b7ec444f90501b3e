import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  rejectOnCancel,
  sendStreamingCommand,
  type ProgressConnection,
  type ProgressValue,
  type StreamingCommandRequest,
} from "../src/streaming";
import { fakeCancellation, FakeResponseError } from "./fakes";

const request: StreamingCommandRequest = { command: "clineBridge.chat", arguments: [{ prompt: "hi" }], workDoneToken: "token-1" };

/** A connection whose request settles when the test says so; it records handlers and params. */
function fakeConnection() {
  let settle: { resolve(value: unknown): void; reject(error: unknown): void } | undefined;
  const handlers = new Map<string, (value: ProgressValue) => void>();
  const connection: ProgressConnection & {
    sent: unknown[];
    handlers: Map<string, (value: ProgressValue) => void>;
    settle(outcome: { value?: unknown; error?: unknown }): void;
  } = {
    sent: [],
    handlers,
    onProgress(token, handler) {
      handlers.set(token, handler);
      return { dispose: () => handlers.delete(token) };
    },
    sendRequest(params) {
      connection.sent.push(params);
      return new Promise((resolve, reject) => {
        settle = { resolve, reject };
      });
    },
    settle({ value, error }) {
      assert.ok(settle, "a request was sent");
      if (error) {
        settle.reject(error);
      } else {
        settle.resolve(value);
      }
    },
  };
  return connection;
}

describe("sendStreamingCommand", () => {
  it("sends the command with its work-done token and forwards that token's progress until the answer", async () => {
    const connection = fakeConnection();
    const token = fakeCancellation();
    const seen: ProgressValue[] = [];
    const answer = sendStreamingCommand(connection, request, (value) => seen.push(value), token);
    await Promise.resolve();
    assert.deepEqual(connection.sent, [{ command: "clineBridge.chat", arguments: [{ prompt: "hi" }], workDoneToken: "token-1" }]);
    connection.handlers.get("token-1")?.({ kind: "begin" });
    connection.handlers.get("token-1")?.({ kind: "report", message: "Hel" });
    connection.settle({ value: { text: "Hello" } });
    assert.deepEqual(await answer, { text: "Hello" });
    assert.deepEqual(seen, [{ kind: "begin" }, { kind: "report", message: "Hel" }]);
    assert.equal(connection.handlers.size, 0, "the progress handler is disposed");
    assert.equal(token.listeners, 0);
  });

  it("disposes the progress handler when the request fails", async () => {
    const connection = fakeConnection();
    const answer = sendStreamingCommand(connection, request, () => undefined, fakeCancellation());
    connection.settle({ error: new FakeResponseError(-32004, "rate limited") });
    await assert.rejects(answer, { code: -32004, message: "rate limited" });
    assert.equal(connection.handlers.size, 0);
  });

  it("rejects at once on cancel, without waiting for the sidecar, and disposes the handler", async () => {
    const connection = fakeConnection();
    const token = fakeCancellation();
    const answer = sendStreamingCommand(connection, request, () => undefined, token);
    token.cancel();
    await assert.rejects(answer, CancelledError);
    assert.equal(connection.handlers.size, 0);
    // The sidecar's RequestCancelled arrives later and must not surface as an unhandled rejection.
    connection.settle({ error: new FakeResponseError(-32800, "cancelled") });
    await new Promise((resolve) => setImmediate(resolve));
  });

  it("sends nothing for an already cancelled token", async () => {
    const connection = fakeConnection();
    const token = fakeCancellation();
    token.cancel();
    await assert.rejects(sendStreamingCommand(connection, request, () => undefined, token), { code: -32800 });
    assert.deepEqual(connection.sent, []);
    assert.equal(connection.handlers.size, 0);
  });
});

describe("rejectOnCancel", () => {
  it("settles like the request when nobody cancels, and unsubscribes", async () => {
    const token = fakeCancellation();
    assert.equal(await rejectOnCancel(Promise.resolve(7), token), 7);
    await assert.rejects(rejectOnCancel(Promise.reject(new Error("boom")), token), /boom/);
    assert.equal(token.listeners, 0);
  });
});
