// Benchmark helper (benchmarks/cline.py): what a user's own extension does without the bridge.
// It listens on the Unix socket CLINE_DIRECT_SOCKET names; each line `{"task": TEXT}` becomes
// Cline's `startNewTask(TEXT)` through its exports, answered `ok` or `error <message>`.
"use strict";
const net = require("node:net");
const vscode = require("vscode");

const CLINE = "saoudrizwan.claude-dev";

async function startNewTask(task) {
  const cline = vscode.extensions.getExtension(CLINE);
  if (!cline) {
    throw new Error(`${CLINE} is not installed`);
  }
  const api = cline.isActive ? cline.exports : await cline.activate();
  await api.startNewTask(task);
}

function serve(connection) {
  let buffered = "";
  connection.setEncoding("utf8");
  connection.on("data", async (data) => {
    buffered += data;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      try {
        await startNewTask(JSON.parse(line).task);
        connection.write("ok\n");
      } catch (error) {
        connection.write(`error ${String(error && error.message ? error.message : error)}\n`);
      }
    }
  });
  connection.on("error", () => connection.destroy());
}

exports.activate = function activate(context) {
  const socket = process.env.CLINE_DIRECT_SOCKET;
  if (!socket) {
    return;
  }
  const server = net.createServer(serve);
  server.listen(socket);
  context.subscriptions.push({ dispose: () => server.close() });
};

exports.deactivate = function deactivate() {};
