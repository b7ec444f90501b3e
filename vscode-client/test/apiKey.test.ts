import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readApiKey, registerApiKeyCommands, type SecretStore } from "../src/apiKey";
import type { CommandHost } from "../src/commands";
import { recordingLogger } from "./fakes";

const KEY = "sk-test-0123456789abcdef";

function memorySecrets(initial: Record<string, string> = {}, failWith?: Error): SecretStore & { values: Map<string, string> } {
  const values = new Map(Object.entries(initial));
  return {
    values,
    async get(key) {
      if (failWith) {
        throw failWith;
      }
      return values.get(key);
    },
    async store(key, value) {
      if (failWith) {
        throw failWith;
      }
      values.set(key, value);
    },
    async delete(key) {
      values.delete(key);
    },
  };
}

describe("readApiKey", () => {
  it("returns the stored key, or undefined for none or an empty one", async () => {
    assert.equal(await readApiKey(memorySecrets({ "clineBridge.apiKey": KEY }), recordingLogger()), KEY);
    assert.equal(await readApiKey(memorySecrets(), recordingLogger()), undefined);
    assert.equal(await readApiKey(memorySecrets({ "clineBridge.apiKey": "" }), recordingLogger()), undefined);
  });

  it("starts without a key when the secret store fails or hangs, and says so", async () => {
    const log = recordingLogger();
    assert.equal(await readApiKey(memorySecrets({}, new Error("keyring locked")), log), undefined);
    const hanging: SecretStore = { get: () => new Promise(() => undefined), store: async () => undefined, delete: async () => undefined };
    assert.equal(await readApiKey(hanging, log, 10), undefined);
    assert.deepEqual(log.lines, [
      "warn: Could not read the stored Cline API key: keyring locked",
      "warn: Reading the stored Cline API key took over 0.01 s; starting the sidecar without it",
    ]);
  });
});

function harness(options: { input?: string | undefined; secrets?: SecretStore }) {
  const commands = new Map<string, () => Promise<void>>();
  const h = {
    secrets: options.secrets ?? memorySecrets(),
    log: recordingLogger(),
    inputs: [] as Parameters<CommandHost["showInputBox"]>[0][],
    shown: [] as string[],
    changes: 0,
    async run(id: string) {
      const command = commands.get(id);
      assert.ok(command, `command ${id} is registered`);
      await command();
    },
  };
  const host: CommandHost = {
    registerCommand(id, run) {
      commands.set(id, run);
      return { dispose: () => commands.delete(id) };
    },
    async showInputBox(inputOptions) {
      h.inputs.push(inputOptions);
      return options.input;
    },
    async showInformationMessage(message) {
      h.shown.push(`info: ${message}`);
      return undefined;
    },
    async showWarningMessage() {
      return undefined;
    },
    async showErrorMessage(message) {
      h.shown.push(`error: ${message}`);
      return undefined;
    },
    activeSelection: () => undefined,
    includeSelection: () => true,
    showLog: () => undefined,
  };
  registerApiKeyCommands(host, h.secrets, h.log, async () => {
    h.changes += 1;
  });
  assert.deepEqual([...commands.keys()].sort(), ["clineBridge.clearApiKey", "clineBridge.setApiKey"]);
  return h;
}

describe("Set API Key and Clear API Key", () => {
  it("asks in a password box that survives losing focus, stores the trimmed key, and restarts", async () => {
    const h = harness({ input: `  ${KEY}\n` });
    await h.run("clineBridge.setApiKey");
    assert.equal(h.inputs.length, 1);
    assert.equal(h.inputs[0]?.password, true);
    assert.equal(h.inputs[0]?.ignoreFocusOut, true);
    assert.equal(await h.secrets.get("clineBridge.apiKey"), KEY);
    assert.deepEqual(h.log.lines, ["info: API key set"]);
    assert.deepEqual(h.shown, ["info: Cline Bridge: API key set"]);
    assert.equal(h.changes, 1);
  });

  it("stores nothing for a cancelled or blank input", async () => {
    for (const input of [undefined, "   "]) {
      const h = harness({ input });
      await h.run("clineBridge.setApiKey");
      assert.equal(await h.secrets.get("clineBridge.apiKey"), undefined);
      assert.equal(h.changes, 0);
      assert.deepEqual(h.shown, []);
    }
  });

  it("Clear API Key deletes the stored key and restarts", async () => {
    const h = harness({ secrets: memorySecrets({ "clineBridge.apiKey": KEY }) });
    await h.run("clineBridge.clearApiKey");
    assert.equal(await h.secrets.get("clineBridge.apiKey"), undefined);
    assert.deepEqual(h.log.lines, ["info: API key cleared"]);
    assert.equal(h.changes, 1);
  });

  it("reports a secret store that refuses the key, without restarting", async () => {
    const h = harness({ input: KEY, secrets: memorySecrets({}, new Error("no keyring")) });
    await h.run("clineBridge.setApiKey");
    assert.deepEqual(h.shown, ["error: Cline Bridge: could not store the API key: no keyring"]);
    assert.equal(h.changes, 0);
  });

  it("never writes the key to the log or a message", async () => {
    const h = harness({ input: KEY });
    await h.run("clineBridge.setApiKey");
    await h.run("clineBridge.clearApiKey");
    for (const line of [...h.log.lines, ...h.shown]) {
      assert.ok(!line.includes(KEY), line);
    }
  });
});
