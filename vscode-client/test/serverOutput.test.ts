import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stderrClassifier } from "../src/serverOutput";

describe("stderrClassifier", () => {
  it("drops the sidecar's own records, which also arrive as window/logMessage, to debug", () => {
    const classify = stderrClassifier();
    assert.equal(classify("2026-11-25 17:19:46,684 INFO cline_bridge.hosts.editor: dispatched"), "debug");
    assert.equal(classify("2026-11-25 17:19:46,684 ERROR cline_bridge: failed"), "debug");
    assert.equal(classify("Traceback (most recent call last):"), "debug", "a traceback follows its record");
  });

  it("keeps other loggers' levels", () => {
    const classify = stderrClassifier();
    assert.equal(classify("2026-11-25 17:19:46,684 WARNING pygls.protocol: odd message"), "warn");
    assert.equal(classify("2026-11-25 17:19:46,684 ERROR pygls.server: boom"), "error");
    assert.equal(classify('  File "x.py", line 1'), "error");
    assert.equal(classify("2026-11-25 17:19:46,684 INFO asyncio: note"), "info");
  });

  it("treats stderr before any record, such as a crash on import, as an error", () => {
    const classify = stderrClassifier();
    assert.equal(classify("Traceback (most recent call last):"), "error");
    assert.equal(classify("ModuleNotFoundError: No module named 'cline_bridge'"), "error");
  });
});
