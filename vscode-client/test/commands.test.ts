import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildTaskText,
  registerCommands,
  selectionLines,
  sidecarCommand,
  type CommandHost,
  type SelectionContext,
  type Sidecar,
  type SidecarCommand,
} from "../src/commands";

const selection: SelectionContext = {
  relativePath: "src/app.ts",
  start: { line: 9, character: 2 },
  end: { line: 11, character: 5 },
  text: "const a = 1;\nconst b = 2;\nfoo();\n",
  languageId: "typescript",
};

describe("sidecarCommand", () => {
  it("maps each palette action to the sidecar command and its arguments", () => {
    assert.deepEqual(sidecarCommand("newTask", "Fix it"), { command: "clineBridge.startNewTask", arguments: [{ task: "Fix it" }] });
    assert.deepEqual(sidecarCommand("message", "yes"), { command: "clineBridge.sendMessage", arguments: [{ message: "yes" }] });
    assert.deepEqual(sidecarCommand("approve"), { command: "clineBridge.pressPrimaryButton", arguments: [] });
    assert.deepEqual(sidecarCommand("reject"), { command: "clineBridge.pressSecondaryButton", arguments: [] });
  });
});

describe("buildTaskText", () => {
  it("returns the task alone without a selection", () => {
    assert.equal(buildTaskText("Fix it"), "Fix it");
  });

  it("appends the selection as a fenced block with path and 1-based lines", () => {
    assert.equal(
      buildTaskText("Explain this", selection),
      "Explain this\n\nFrom src/app.ts:10-12:\n```typescript\nconst a = 1;\nconst b = 2;\nfoo();\n```",
    );
  });

  it("uses a longer fence than any backtick run in the code, and no plaintext tag", () => {
    const text = buildTaskText("t", { ...selection, text: "a ```` b", languageId: "plaintext" });
    assert.equal(text, "t\n\nFrom src/app.ts:10-12:\n`````\na ```` b\n`````");
  });

  it("sends only the context when the task is empty", () => {
    assert.match(buildTaskText("  ", selection), /^From src\/app\.ts:10-12:\n```typescript\n/);
  });

  it("does not count a last line the selection only reaches at column 0", () => {
    assert.deepEqual(selectionLines({ line: 4, character: 0 }, { line: 7, character: 0 }), [5, 7]);
    assert.deepEqual(selectionLines({ line: 4, character: 3 }, { line: 4, character: 9 }), [5, 5]);
  });
});

interface Harness {
  host: CommandHost;
  sidecar: Sidecar;
  run(id: string): Promise<void>;
  sent: SidecarCommand[];
  prompts: string[];
  shown: string[];
  restarts: number;
  logShown: number;
}

function harness(options: {
  input?: string | undefined;
  selection?: SelectionContext;
  includeSelection?: boolean;
  running?: boolean;
  failWith?: Error;
  pick?: string;
  /** The sidecar's result for each command, in order; `{ host: "editor" }` once they run out. */
  results?: unknown[];
}): Harness {
  const commands = new Map<string, () => Promise<void>>();
  const h: Harness = {
    sent: [],
    prompts: [],
    shown: [],
    restarts: 0,
    logShown: 0,
    host: {
      registerCommand(id, run) {
        commands.set(id, run);
        return { dispose: () => commands.delete(id) };
      },
      async showInputBox({ prompt }) {
        h.prompts.push(prompt);
        return options.input;
      },
      async showInformationMessage(message, ...items) {
        h.shown.push(items.length ? `info: ${message} [${items.join("|")}]` : `info: ${message}`);
        return items.includes(options.pick ?? "") ? options.pick : undefined;
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
      includeSelection: () => options.includeSelection ?? true,
      showLog: () => {
        h.logShown += 1;
      },
    },
    sidecar: {
      ready: async () => options.running ?? true,
      async executeCommand(request) {
        h.sent.push(request);
        if (options.failWith) {
          throw options.failWith;
        }
        return options.results?.shift() ?? { host: "editor" };
      },
      restart: async () => {
        h.restarts += 1;
      },
    },
    async run(id) {
      const command = commands.get(id);
      assert.ok(command, `command ${id} is registered`);
      await command();
    },
  };
  registerCommands(h.host, h.sidecar);
  assert.deepEqual(
    [...commands.keys()].sort(),
    ["clineBridge.approve", "clineBridge.message", "clineBridge.newTask", "clineBridge.reject", "clineBridge.restart", "clineBridge.showLog"],
  );
  return h;
}

describe("palette commands", () => {
  it("Start New Task sends the typed task and says it was dispatched", async () => {
    const h = harness({ input: "Write tests" });
    await h.run("clineBridge.newTask");
    assert.deepEqual(h.prompts, ["Task for Cline"]);
    assert.deepEqual(h.sent, [{ command: "clineBridge.startNewTask", arguments: [{ task: "Write tests" }] }]);
    assert.deepEqual(h.shown, ["info: Cline Bridge: task sent to Cline"]);
  });

  it("Start New Task appends the selection and says so in the prompt", async () => {
    const h = harness({ input: "Explain this", selection });
    await h.run("clineBridge.newTask");
    assert.deepEqual(h.prompts, ["Task for Cline (the selection in src/app.ts:10-12 is appended as context)"]);
    assert.deepEqual(h.sent, [{ command: "clineBridge.startNewTask", arguments: [{ task: buildTaskText("Explain this", selection) }] }]);
  });

  it("Start New Task leaves the selection out when clineBridge.includeSelection is off", async () => {
    const h = harness({ input: "Explain this", selection, includeSelection: false });
    await h.run("clineBridge.newTask");
    assert.deepEqual(h.prompts, ["Task for Cline"]);
    assert.deepEqual(h.sent, [{ command: "clineBridge.startNewTask", arguments: [{ task: "Explain this" }] }]);
  });

  it("a cancelled or empty input sends nothing", async () => {
    for (const input of [undefined, "  "]) {
      const h = harness({ input });
      await h.run("clineBridge.newTask");
      assert.deepEqual(h.sent, []);
      assert.deepEqual(h.shown, []);
    }
    const h = harness({ input: undefined });
    await h.run("clineBridge.message");
    assert.deepEqual(h.sent, []);
  });

  it("Send Message, Approve and Reject send their requests", async () => {
    const h = harness({ input: "go on" });
    await h.run("clineBridge.message");
    await h.run("clineBridge.approve");
    await h.run("clineBridge.reject");
    assert.deepEqual(h.sent, [
      { command: "clineBridge.sendMessage", arguments: [{ message: "go on" }] },
      { command: "clineBridge.pressPrimaryButton", arguments: [] },
      { command: "clineBridge.pressSecondaryButton", arguments: [] },
    ]);
    assert.deepEqual(h.shown, ["info: Cline Bridge: message sent", "info: Cline Bridge: approved", "info: Cline Bridge: rejected"]);
  });

  it("Approve and Reject say what they pressed", async () => {
    const approved = { host: "editor", action: "approved", title: "editor: write /w/hello.txt", toolKind: "edit" };
    const h = harness({ results: [approved, { host: "acp", action: "cancelled" }, { host: "editor", action: "pressed" }] });
    await h.run("clineBridge.approve");
    await h.run("clineBridge.reject");
    await h.run("clineBridge.reject");
    assert.deepEqual(h.shown, [
      "info: Cline Bridge: approved editor: write /w/hello.txt",
      "info: Cline Bridge: stopped Cline's running turn",
      "info: Cline Bridge: pressed Cline's secondary button",
    ]);
  });

  it("a button that pressed nothing says why and can press anyway", async () => {
    const none = { host: "editor", dispatched: false, action: "none", state: "idle" };
    const h = harness({ results: [none, { host: "editor", action: "resumed" }], pick: "Press Anyway" });
    await h.run("clineBridge.reject");
    assert.deepEqual(h.sent, [
      { command: "clineBridge.pressSecondaryButton", arguments: [] },
      { command: "clineBridge.pressSecondaryButton", arguments: [{ force: true }] },
    ]);
    assert.deepEqual(h.shown, [
      "info: Cline Bridge: nothing to reject: the task waits for a message [Press Anyway]",
      "info: Cline Bridge: nothing waited for an answer: Cline goes on with the task (a new turn)",
    ]);

    const left = harness({ results: [{ ...none, state: "none" }] });
    await left.run("clineBridge.approve");
    assert.deepEqual(left.sent.length, 1, "dismissed: nothing more is sent");
    assert.deepEqual(left.shown, ["info: Cline Bridge: nothing to approve: there is no task [Press Anyway]"]);
  });

  it("shows the sidecar's error message with Show Log", async () => {
    const h = harness({ failWith: new Error("Cline (saoudrizwan.claude-dev) is not installed."), pick: "Show Log" });
    await h.run("clineBridge.approve");
    assert.deepEqual(h.shown, ["error: Cline Bridge: Cline (saoudrizwan.claude-dev) is not installed. [Show Log]"]);
    assert.equal(h.logShown, 1);
  });

  it("offers a restart when the sidecar is not running, and sends nothing", async () => {
    const h = harness({ running: false, pick: "Restart" });
    await h.run("clineBridge.reject");
    assert.deepEqual(h.sent, []);
    assert.deepEqual(h.shown, ["warning: Cline Bridge: the sidecar is not running. [Restart|Show Log]"]);
    assert.equal(h.restarts, 1);
  });

  it("Restart Sidecar and Show Log reach the sidecar and the log", async () => {
    const h = harness({});
    await h.run("clineBridge.restart");
    await h.run("clineBridge.showLog");
    assert.equal(h.restarts, 1);
    assert.equal(h.logShown, 1);
  });
});
