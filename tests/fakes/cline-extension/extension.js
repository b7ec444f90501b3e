// Test double of Cline (saoudrizwan.claude-dev): exports the four ClineAPI methods and records each
// call as one JSON line in $CLINE_FAKE_RECORD. $CLINE_FAKE_THROW names a method that fails after
// recording. The environment is read per call, so one extension host can serve several tests.
"use strict";

const fs = require("node:fs");

function record(method, args) {
  const file = process.env.CLINE_FAKE_RECORD;
  if (file) {
    // undefined becomes null so every line shows the method's full arity.
    const line = JSON.stringify({ method, args: args.map((arg) => (arg === undefined ? null : arg)) });
    fs.appendFileSync(file, line + "\n");
  }
  if (process.env.CLINE_FAKE_THROW === method) {
    throw new Error(`fake Cline refused ${method}`);
  }
}

function activate() {
  return {
    async startNewTask(task, images) {
      record("startNewTask", [task, images]);
    },
    async sendMessage(message, images) {
      record("sendMessage", [message, images]);
    },
    async pressPrimaryButton() {
      record("pressPrimaryButton", []);
    },
    async pressSecondaryButton() {
      record("pressSecondaryButton", []);
    },
  };
}

function deactivate() {}

module.exports = { activate, deactivate };
