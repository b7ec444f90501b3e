import * as vscode from "vscode";
import type { BridgeState, BridgeStatus } from "./client";
import { DISPLAY_NAME, PaletteCommands, STATUS_BAR_ID } from "./constants";

const icons: Record<BridgeState, string> = {
  starting: "$(sync~spin)",
  running: "$(check)",
  stopped: "$(error)",
};

/** Shows the sidecar's state; the aria-label is what the end-to-end test looks for, keep it exact. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 0);
  private readonly subscription: vscode.Disposable;

  constructor(source: { readonly status: BridgeStatus; readonly onDidChangeStatus: vscode.Event<BridgeStatus> }) {
    this.item.name = DISPLAY_NAME;
    this.item.command = PaletteCommands.showLog;
    this.subscription = source.onDidChangeStatus((status) => this.update(status));
    this.update(source.status);
    this.item.show();
  }

  private update({ state, detail }: BridgeStatus): void {
    const label = `${DISPLAY_NAME}: ${state}`;
    this.item.text = `${icons[state]} ${DISPLAY_NAME}`;
    this.item.tooltip = detail ? `${label}\n${detail}\nClick to show the log.` : `${label}\nClick to show the log.`;
    this.item.accessibilityInformation = { label, role: "button" };
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
