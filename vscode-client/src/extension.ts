import * as vscode from "vscode";
import { BridgeClient } from "./client";
import { registerCommands, vscodeCommandHost } from "./commands";
import { Settings } from "./constants";
import { createLogChannel } from "./log";
import { StatusBar } from "./statusBar";

let bridge: BridgeClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const channel = createLogChannel();
  bridge = new BridgeClient(context.extensionPath, channel);
  const client = bridge;
  context.subscriptions.push(
    channel,
    new StatusBar(client),
    ...registerCommands(vscodeCommandHost(vscode, () => channel.show(true)), client),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${Settings.section}.${Settings.interpreter}`)) {
        channel.info(`"${Settings.section}.${Settings.interpreter}" changed: restarting the sidecar`);
        void client.restart();
      }
    }),
  );
  // Not awaited: activation must not wait for Python; commands wait in BridgeClient.ready().
  void client.start();
}

export async function deactivate(): Promise<void> {
  await bridge?.dispose();
  bridge = undefined;
}
