import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResponseError } from "vscode-languageserver-protocol";
import { ClineForwarder, type ClineApi } from "../src/cline";
import { registerClineRequests, type RequestReceiver } from "../src/clineRequests";
import { fakeExtension, recordingApi, recordingLogger, registry } from "./fakes";

const CLINE = "saoudrizwan.claude-dev";
const IMAGE = "data:image/png;base64,iVBORw0KGgo=";
const NOT_INSTALLED = "Cline (saoudrizwan.claude-dev) is not installed. Install the Cline extension to run tasks from Cline Bridge.";

type Answer = null | ResponseError;

/** The handlers registered on a fake language client, forwarding to `api` as Cline's exports, or to no Cline. */
function harness(api: ClineApi | undefined) {
  const handlers = new Map<string, (params: unknown) => Promise<Answer>>();
  const client: RequestReceiver = {
    onRequest<P>(method: string, handler: (params: P) => Promise<Answer>) {
      handlers.set(method, (params) => handler(params as P));
    },
  };
  const log = recordingLogger();
  registerClineRequests(client, new ClineForwarder(registry(api ? { [CLINE]: fakeExtension({ exports: api }) } : {})), log);
  return {
    log,
    methods: [...handlers.keys()],
    request(method: string, params: unknown): Promise<Answer> {
      const handler = handlers.get(method);
      assert.ok(handler, `${method} has a handler`);
      return handler(params);
    },
  };
}

function assertClineUnavailable(answer: Answer, message: string): void {
  assert.ok(answer instanceof ResponseError, `expected a ResponseError, got ${String(answer)}`);
  assert.deepEqual(answer.toJson(), { code: -32002, message });
}

const forwarded: [method: string, params: unknown, call: [string, unknown[]]][] = [
  ["clineBridge/startNewTask", { task: "Fix the bug", images: [IMAGE] }, ["startNewTask", ["Fix the bug", [IMAGE]]]],
  ["clineBridge/sendMessage", { message: "yes", images: null }, ["sendMessage", ["yes", undefined]]],
  ["clineBridge/pressPrimaryButton", null, ["pressPrimaryButton", []]],
  ["clineBridge/pressSecondaryButton", null, ["pressSecondaryButton", []]],
];

describe("registerClineRequests", () => {
  it("answers each of the sidecar's four clineBridge/* requests", () => {
    assert.deepEqual(harness(recordingApi()).methods.sort(), [
      "clineBridge/pressPrimaryButton",
      "clineBridge/pressSecondaryButton",
      "clineBridge/sendMessage",
      "clineBridge/startNewTask",
    ]);
  });

  for (const [method, params, call] of forwarded) {
    it(`forwards ${method} to Cline's ${call[0]} and answers null`, async () => {
      const api = recordingApi();
      const answer = await harness(api).request(method, params);
      assert.equal(answer, null);
      assert.deepEqual(api.calls, [call]);
    });
  }

  it("logs the forwarding, then the dispatch", async () => {
    const h = harness(recordingApi());
    await h.request("clineBridge/sendMessage", { message: "yes" });
    assert.deepEqual(h.log.lines, [
      "info: clineBridge/sendMessage: forwarding to Cline",
      "info: clineBridge/sendMessage: dispatched",
    ]);
  });

  it("answers a missing Cline with a ResponseError carrying the reason, and logs it", async () => {
    const h = harness(undefined);
    assertClineUnavailable(await h.request("clineBridge/startNewTask", { task: "t" }), NOT_INSTALLED);
    assert.deepEqual(h.log.lines, [
      "info: clineBridge/startNewTask: forwarding to Cline",
      `error: clineBridge/startNewTask: ${NOT_INSTALLED}`,
    ]);
  });

  it("answers a Cline call that throws with a ResponseError naming the call, and logs it", async () => {
    const api = recordingApi("pressSecondaryButton");
    const h = harness(api);
    const reason = "Cline's pressSecondaryButton failed: refused pressSecondaryButton";
    assertClineUnavailable(await h.request("clineBridge/pressSecondaryButton", null), reason);
    assert.deepEqual(api.calls, [["pressSecondaryButton", []]]);
    assert.deepEqual(h.log.lines, [
      "info: clineBridge/pressSecondaryButton: forwarding to Cline",
      `error: clineBridge/pressSecondaryButton: ${reason}`,
    ]);
  });
});
