import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  answerHeader,
  answerRemainder,
  AnswerWriter,
  apiErrorDetail,
  askFailure,
  chatRequest,
  registerAsk,
  type AskHost,
  type ChatSidecar,
} from "../src/ask";
import { buildTaskText, type SelectionContext } from "../src/commands";
import { CancelledError, type ProgressValue, type StreamingCommandRequest } from "../src/streaming";
import { fakeCancellation, FakeResponseError, recordingLogger, type FakeCancellation } from "./fakes";

const selection: SelectionContext = {
  relativePath: "src/app.ts",
  start: { line: 9, character: 0 },
  end: { line: 10, character: 4 },
  text: "foo();\nbar();",
  languageId: "typescript",
};

describe("chatRequest", () => {
  it("asks clineBridge.chat with the prompt and the work-done token", () => {
    assert.deepEqual(chatRequest("What is 2+2?", undefined, "token-1"), {
      command: "clineBridge.chat",
      arguments: [{ prompt: "What is 2+2?" }],
      workDoneToken: "token-1",
    });
  });

  it("appends the selection exactly as Start New Task does", () => {
    const prompt = buildTaskText("Explain", selection);
    assert.deepEqual(chatRequest("Explain", selection, "t").arguments, [{ prompt }]);
    assert.match(prompt, /^Explain\n\nFrom src\/app\.ts:10-11:\n```typescript\n/);
  });
});

describe("answerHeader", () => {
  it("names the question and the selection it carries", () => {
    assert.equal(answerHeader(" What is 2+2? "), "## What is 2+2?");
    assert.equal(answerHeader("Explain", selection), "## Explain (with the selection in src/app.ts:10-11)");
    assert.equal(answerHeader("", selection), "## (the selection in src/app.ts:10-11)");
  });
});

function recordingChannel() {
  const chunks: string[] = [];
  return { chunks, append: (text: string) => chunks.push(text), text: () => chunks.join("") };
}

describe("AnswerWriter", () => {
  it("appends each report as it arrives and nothing more when the stream was complete", () => {
    const channel = recordingChannel();
    const writer = new AnswerWriter(channel);
    writer.progress({ kind: "begin", message: "Cline chat" });
    writer.progress({ kind: "report", message: "Hello, " });
    writer.progress({ kind: "report" });
    writer.progress({ kind: "report", message: "world" });
    writer.progress({ kind: "end", message: "done" });
    writer.finish("Hello, world");
    assert.deepEqual(channel.chunks, ["Hello, ", "world"]);
  });

  it("appends what the reports missed, or the whole answer without progress support", () => {
    const partial = recordingChannel();
    const writer = new AnswerWriter(partial);
    writer.progress({ kind: "report", message: "Hel" });
    writer.finish("Hello");
    assert.equal(partial.text(), "Hello");

    const none = recordingChannel();
    new AnswerWriter(none).finish("Hello");
    assert.deepEqual(none.chunks, ["Hello"]);
  });

  it("ends with exactly the full answer even when the stream disagrees with it", () => {
    assert.equal(answerRemainder("Hello", "Hello there"), " there");
    assert.equal(answerRemainder("", ""), "");
    const channel = recordingChannel();
    const writer = new AnswerWriter(channel);
    writer.progress({ kind: "report", message: "Hallo" });
    writer.finish("Hello");
    assert.ok(channel.text().endsWith("\n\nHello"));
    assert.match(channel.text(), /differs from the final answer/);
  });

  it("ignores reports after the end, and notes an answer that will not come", () => {
    const channel = recordingChannel();
    const writer = new AnswerWriter(channel);
    writer.progress({ kind: "report", message: "Hel" });
    writer.abandon("cancelled");
    writer.progress({ kind: "report", message: "lo" });
    writer.finish("Hello");
    assert.equal(channel.text(), "Hel\n\n[cancelled]");
    const empty = recordingChannel();
    new AnswerWriter(empty).abandon("failed: boom");
    assert.equal(empty.text(), "[failed: boom]");
  });
});

describe("askFailure", () => {
  it("maps a cancel, from the sidecar or from here, to an info message", () => {
    for (const error of [new FakeResponseError(-32800, "Request cancelled"), new CancelledError()]) {
      const failure = askFailure(error);
      assert.equal(failure.kind, "cancelled");
      assert.equal(failure.message, "Cline Bridge: cancelled");
      assert.equal(failure.action, undefined);
    }
  });

  it("maps -32003 to the missing-key message with a Set API Key button", () => {
    const failure = askFailure(new FakeResponseError(-32003, "no API key configured"));
    assert.deepEqual(
      { kind: failure.kind, message: failure.message, action: failure.action },
      { kind: "noApiKey", message: "Cline Bridge: no Cline API key is set.", action: "Set API Key" },
    );
  });

  it("maps -32004 to its one-line message with Show Log, and logs the REST details", () => {
    const data = { status: 429, code: "rate_limited", requestId: "req_1", retryable: true };
    const failure = askFailure(new FakeResponseError(-32004, "Rate limited: try again in 20 s", data));
    assert.equal(failure.kind, "error");
    assert.equal(failure.message, "Cline Bridge: Rate limited: try again in 20 s");
    assert.equal(failure.action, "Show Log");
    assert.equal(failure.log, "Cline chat failed: Rate limited: try again in 20 s (HTTP 429, code rate_limited, request id req_1, retryable)");
  });

  it("shows any other error's message with Show Log", () => {
    const failure = askFailure(new Error("the sidecar is not running"));
    assert.deepEqual(
      { kind: failure.kind, message: failure.message, action: failure.action },
      { kind: "error", message: "Cline Bridge: the sidecar is not running", action: "Show Log" },
    );
  });

  it("tolerates partial or missing REST error data", () => {
    assert.equal(apiErrorDetail(undefined), "");
    assert.equal(apiErrorDetail({}), "");
    assert.equal(apiErrorDetail({ status: 500, code: null, requestId: "", retryable: false }), " (HTTP 500, not retryable)");
  });
});

interface Harness {
  run(): Promise<void>;
  requests: StreamingCommandRequest[];
  channel: string[];
  shownChannel: boolean[];
  prompts: string[];
  progressTitles: string[];
  shown: string[];
  executed: string[];
  logShown: number;
  log: ReturnType<typeof recordingLogger>;
  tokens: FakeCancellation[];
}

/** Ask with a fake host and a sidecar that plays `respond` (reports, then a result or an error). */
function harness(options: {
  input?: string | undefined;
  selection?: SelectionContext;
  running?: boolean;
  pick?: string;
  respond?: (report: (value: ProgressValue) => void, token: FakeCancellation) => Promise<unknown>;
}): Harness {
  let command: (() => Promise<void>) | undefined;
  let tokenCount = 0;
  const h: Harness = {
    requests: [],
    channel: [],
    shownChannel: [],
    prompts: [],
    progressTitles: [],
    shown: [],
    executed: [],
    logShown: 0,
    log: recordingLogger(),
    tokens: [],
    async run() {
      assert.ok(command, "clineBridge.ask is registered");
      await command();
    },
  };
  const host: AskHost = {
    registerCommand(id, run) {
      assert.equal(id, "clineBridge.ask");
      command = run;
      return { dispose: () => undefined };
    },
    async showInputBox({ prompt }) {
      h.prompts.push(prompt);
      return options.input;
    },
    async showInformationMessage(message) {
      h.shown.push(`info: ${message}`);
      return undefined;
    },
    async showWarningMessage(message, ...items) {
      h.shown.push(`warning: ${message} [${items.join("|")}]`);
      return options.pick;
    },
    async showErrorMessage(message, ...items) {
      h.shown.push(`error: ${message} [${items.join("|")}]`);
      return options.pick;
    },
    activeSelection: () => options.selection,
    includeSelection: () => true,
    showLog: () => {
      h.logShown += 1;
    },
    async withCancellableProgress(title, task) {
      h.progressTitles.push(title);
      const token = fakeCancellation();
      h.tokens.push(token);
      return task(token);
    },
    answers: () => ({ append: (text) => h.channel.push(text), show: (preserveFocus) => h.shownChannel.push(preserveFocus) }),
    async executeCommand(id) {
      h.executed.push(id);
    },
    newToken: () => `token-${++tokenCount}`,
    log: h.log,
  };
  const sidecar: ChatSidecar = {
    ready: async () => options.running ?? true,
    restart: async () => undefined,
    async executeStreamingCommand(request, onProgress, token) {
      h.requests.push(request);
      const respond = options.respond ?? (async () => ({ text: "" }));
      return respond(onProgress, token as FakeCancellation);
    },
  };
  registerAsk(host, sidecar);
  return h;
}

describe("Ask…", () => {
  it("streams the answer under its question into the answers channel, shown without taking focus", async () => {
    const h = harness({
      input: "What is 2+2?",
      respond: async (report) => {
        report({ kind: "begin", message: "Cline chat" });
        report({ kind: "report", message: "It is " });
        report({ kind: "report", message: "4." });
        report({ kind: "end" });
        return { id: "c1", model: "anthropic/claude-sonnet-4-6", text: "It is 4.", finishReason: "stop" };
      },
    });
    await h.run();
    assert.deepEqual(h.prompts, ["Ask Cline (REST API)"]);
    assert.deepEqual(h.progressTitles, ["Asking Cline…"]);
    assert.deepEqual(h.requests, [{ command: "clineBridge.chat", arguments: [{ prompt: "What is 2+2?" }], workDoneToken: "token-1" }]);
    assert.equal(h.channel.join(""), "## What is 2+2?\n\nIt is 4.");
    assert.deepEqual(h.shownChannel, [true]);
    assert.deepEqual(h.shown, []);
    assert.deepEqual(h.log.lines, ["info: Cline chat answered by anthropic/claude-sonnet-4-6 (finish reason: stop)"]);
  });

  it("appends the selection, says so in the prompt, and separates answers", async () => {
    const h = harness({ input: "Explain", selection, respond: async () => ({ text: "It calls foo and bar." }) });
    await h.run();
    await h.run();
    assert.deepEqual(h.prompts, [
      "Ask Cline (REST API) (the selection in src/app.ts:10-11 is appended as context)",
      "Ask Cline (REST API) (the selection in src/app.ts:10-11 is appended as context)",
    ]);
    assert.deepEqual(h.requests[0]?.arguments, [{ prompt: buildTaskText("Explain", selection) }]);
    assert.equal(h.requests[1]?.workDoneToken, "token-2", "each question gets a fresh token");
    const header = "## Explain (with the selection in src/app.ts:10-11)\n\n";
    assert.equal(h.channel.join(""), `${header}It calls foo and bar.\n\n${header}It calls foo and bar.`);
  });

  it("writes the whole answer when the sidecar streamed nothing", async () => {
    const h = harness({ input: "Hi", respond: async () => ({ text: "Hello!" }) });
    await h.run();
    assert.equal(h.channel.join(""), "## Hi\n\nHello!");
  });

  it("sends nothing for a cancelled or empty question, or a sidecar that is not running", async () => {
    for (const input of [undefined, "  "]) {
      const h = harness({ input });
      await h.run();
      assert.deepEqual(h.requests, []);
      assert.deepEqual(h.channel, []);
    }
    const h = harness({ input: "Hi", running: false });
    await h.run();
    assert.deepEqual(h.requests, []);
    assert.deepEqual(h.shown, ["warning: Cline Bridge: the sidecar is not running. [Restart|Show Log]"]);
  });

  it("offers Set API Key when no key is configured, and runs it", async () => {
    const h = harness({
      input: "Hi",
      pick: "Set API Key",
      respond: async () => {
        throw new FakeResponseError(-32003, "no API key configured");
      },
    });
    await h.run();
    assert.deepEqual(h.shown, ["error: Cline Bridge: no Cline API key is set. [Set API Key]"]);
    assert.deepEqual(h.executed, ["clineBridge.setApiKey"]);
    assert.equal(h.channel.join(""), "## Hi\n\n[no Cline API key is set]");
  });

  it("shows a REST API error with Show Log and logs its details", async () => {
    const h = harness({
      input: "Hi",
      pick: "Show Log",
      respond: async (report) => {
        report({ kind: "report", message: "Partial" });
        throw new FakeResponseError(-32004, "Cline API error 500: upstream failed", { status: 500, requestId: "req_9", retryable: true });
      },
    });
    await h.run();
    assert.deepEqual(h.shown, ["error: Cline Bridge: Cline API error 500: upstream failed [Show Log]"]);
    assert.equal(h.logShown, 1);
    assert.deepEqual(h.log.lines, ["error: Cline chat failed: Cline API error 500: upstream failed (HTTP 500, request id req_9, retryable)"]);
    assert.equal(h.channel.join(""), "## Hi\n\nPartial\n\n[failed: Cline API error 500: upstream failed]");
  });

  it("says cancelled when the user cancels the notification, keeping what streamed", async () => {
    const h = harness({
      input: "Write an essay",
      respond: async (report, token) => {
        report({ kind: "report", message: "Once upon" });
        token.cancel();
        throw new FakeResponseError(-32800, "Request cancelled");
      },
    });
    await h.run();
    assert.deepEqual(h.shown, ["info: Cline Bridge: cancelled"]);
    assert.equal(h.channel.join(""), "## Write an essay\n\nOnce upon\n\n[cancelled]");
    assert.deepEqual(h.log.lines, ["info: Cline chat cancelled"]);
  });
});
