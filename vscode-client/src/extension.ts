import * as vscode from "vscode";
import { registerApiKeyCommands } from "./apiKey";
import { registerAsk, vscodeAskHost } from "./ask";
import { BridgeClient } from "./client";
import { registerCommands, vscodeCommandHost } from "./commands";
import { API_KEY_SECRET, RESTART_SETTINGS, Settings } from "./constants";
import { createLogChannel } from "./log";
import { StatusBar } from "./statusBar";
import { TerminalEnv } from "./terminalEnv";

let bridge: BridgeClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const channel = createLogChannel();
  bridge = new BridgeClient(context.extensionPath, channel, context.secrets);
  const client = bridge;
  const host = vscodeCommandHost(vscode, () => channel.show(true));
  const askHost = vscodeAskHost(vscode, host, channel);
  context.subscriptions.push(
    channel,
    askHost,
    new StatusBar(client),
    new TerminalEnv(context.environmentVariableCollection, client, channel),
    ...registerCommands(host, client),
    ...registerAsk(askHost, client),
    ...registerApiKeyCommands(host, context.secrets, channel, () => client.apiKeyChanged()),
    // Also fires for changes made in other windows; apiKeyChanged restarts only if the key differs.
    context.secrets.onDidChange((event) => {
      if (event.key === API_KEY_SECRET) {
        void client.apiKeyChanged();
      }
    }),
    // Fires for any extension; clineChanged restarts only if Cline's version differs.
    vscode.extensions.onDidChange(() => void client.clineChanged()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const changed = RESTART_SETTINGS.map((key) => `${Settings.section}.${key}`).find((name) => event.affectsConfiguration(name));
      if (changed) {
        channel.info(`"${changed}" changed: restarting the sidecar`);
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
