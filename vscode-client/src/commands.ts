// Palette commands. Everything here reaches VS Code through `CommandHost`, so the whole flow (input,
// request, message) runs under node tests; `vscodeCommandHost` is the only adapter to the real API.
import type * as vscode from "vscode";
import { DISPLAY_NAME, PaletteCommands, ServerCommands, Settings } from "./constants";
import { errorMessage } from "./extensions";

export type PaletteAction = "newTask" | "message" | "approve" | "reject";

/** A command id and its arguments, sent to the sidecar as `workspace/executeCommand` params. */
export interface SidecarCommand {
  readonly command: string;
  readonly arguments: unknown[];
}

export interface Position {
  readonly line: number;
  readonly character: number;
}

/** The active editor's selection; positions are 0-based, as in `vscode.Position`. */
export interface SelectionContext {
  readonly relativePath: string;
  readonly start: Position;
  readonly end: Position;
  readonly text: string;
  readonly languageId?: string;
}

/** What the commands need from the sidecar's client (`BridgeClient`). */
export interface Sidecar {
  /** Waits for a start or restart in flight; true when the language client is running. */
  ready(): Promise<boolean>;
  executeCommand(request: SidecarCommand): Promise<unknown>;
  restart(): Promise<void>;
}

/** What the commands need from VS Code. */
export interface CommandHost {
  registerCommand(id: string, run: () => Promise<void>): { dispose(): unknown };
  showInputBox(options: {
    prompt: string;
    placeHolder?: string;
    ignoreFocusOut?: boolean;
    password?: boolean;
  }): PromiseLike<string | undefined>;
  showInformationMessage(message: string): PromiseLike<unknown>;
  showWarningMessage(message: string, ...items: string[]): PromiseLike<string | undefined>;
  showErrorMessage(message: string, ...items: string[]): PromiseLike<string | undefined>;
  activeSelection(): SelectionContext | undefined;
  includeSelection(): boolean;
  showLog(): void;
}

export const SHOW_LOG = "Show Log";
const RESTART = "Restart";

/** The sidecar command a palette action sends. */
export function sidecarCommand(action: PaletteAction, text = ""): SidecarCommand {
  switch (action) {
    case "newTask":
      return { command: ServerCommands.startNewTask, arguments: [{ task: text }] };
    case "message":
      return { command: ServerCommands.sendMessage, arguments: [{ message: text }] };
    case "approve":
      return { command: ServerCommands.pressPrimaryButton, arguments: [] };
    case "reject":
      return { command: ServerCommands.pressSecondaryButton, arguments: [] };
  }
}

/** 1-based first and last line; a selection ending at column 0 does not include that line. */
export function selectionLines(start: Position, end: Position): [number, number] {
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return [start.line + 1, last + 1];
}

export function selectionLabel(selection: SelectionContext): string {
  const [first, last] = selectionLines(selection.start, selection.end);
  return `${selection.relativePath}:${first}-${last}`;
}

/** The task text with the selection appended as a fenced block, fenced longer than any backtick run inside. */
export function buildTaskText(task: string, selection?: SelectionContext): string {
  if (!selection) {
    return task;
  }
  const longestRun = Math.max(0, ...(selection.text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  const language = selection.languageId && selection.languageId !== "plaintext" ? selection.languageId : "";
  const code = selection.text.replace(/\r?\n$/, "");
  const context = `From ${selectionLabel(selection)}:\n${fence}${language}\n${code}\n${fence}`;
  return task.trim() === "" ? context : `${task}\n\n${context}`;
}

/** The selection to append as context, when there is one and `clineBridge.includeSelection` is on. */
export function contextSelection(host: Pick<CommandHost, "includeSelection" | "activeSelection">): SelectionContext | undefined {
  return host.includeSelection() ? host.activeSelection() : undefined;
}

const dispatched: Record<PaletteAction, string> = {
  newTask: "task sent to Cline",
  message: "message sent",
  approve: "approved",
  reject: "rejected",
};

/** Waits for the sidecar; when it is not running, offers Restart and Show Log and returns false. */
export async function sidecarRunning(host: CommandHost, sidecar: Pick<Sidecar, "ready" | "restart">): Promise<boolean> {
  if (await sidecar.ready()) {
    return true;
  }
  const choice = await host.showWarningMessage(`${DISPLAY_NAME}: the sidecar is not running.`, RESTART, SHOW_LOG);
  if (choice === RESTART) {
    await sidecar.restart();
  } else if (choice === SHOW_LOG) {
    host.showLog();
  }
  return false;
}

export function registerCommands(host: CommandHost, sidecar: Sidecar): { dispose(): unknown }[] {
  // ClineAPI is fire-and-forget: a resolved request means "dispatched", so the messages say no more.
  async function send(action: PaletteAction, text?: string): Promise<void> {
    if (!(await sidecarRunning(host, sidecar))) {
      return;
    }
    try {
      await sidecar.executeCommand(sidecarCommand(action, text));
    } catch (error) {
      const choice = await host.showErrorMessage(`${DISPLAY_NAME}: ${errorMessage(error)}`, SHOW_LOG);
      if (choice === SHOW_LOG) {
        host.showLog();
      }
      return;
    }
    void host.showInformationMessage(`${DISPLAY_NAME}: ${dispatched[action]}`);
  }

  async function newTask(): Promise<void> {
    const selection = contextSelection(host);
    const prompt = selection
      ? `Task for Cline (the selection in ${selectionLabel(selection)} is appended as context)`
      : "Task for Cline";
    const task = await host.showInputBox({ prompt, placeHolder: "Describe the task", ignoreFocusOut: true });
    if (task === undefined || (task.trim() === "" && !selection)) {
      return;
    }
    await send("newTask", buildTaskText(task, selection));
  }

  async function message(): Promise<void> {
    const text = await host.showInputBox({ prompt: "Message for Cline", ignoreFocusOut: true });
    if (text !== undefined) {
      await send("message", text);
    }
  }

  return [
    host.registerCommand(PaletteCommands.newTask, newTask),
    host.registerCommand(PaletteCommands.message, message),
    host.registerCommand(PaletteCommands.approve, () => send("approve")),
    host.registerCommand(PaletteCommands.reject, () => send("reject")),
    host.registerCommand(PaletteCommands.restart, () => sidecar.restart()),
    host.registerCommand(PaletteCommands.showLog, async () => host.showLog()),
  ];
}

/** Adapts the real `vscode` module (passed in, so this file never loads it) to `CommandHost`. */
export function vscodeCommandHost(api: typeof vscode, showLog: () => void): CommandHost {
  return {
    registerCommand: (id, run) => api.commands.registerCommand(id, run),
    showInputBox: (options) => api.window.showInputBox(options),
    showInformationMessage: (message) => api.window.showInformationMessage(message),
    showWarningMessage: (message, ...items) => api.window.showWarningMessage(message, ...items),
    showErrorMessage: (message, ...items) => api.window.showErrorMessage(message, ...items),
    activeSelection: () => {
      const editor = api.window.activeTextEditor;
      if (!editor || editor.selection.isEmpty) {
        return undefined;
      }
      const text = editor.document.getText(editor.selection);
      if (text.trim() === "") {
        return undefined;
      }
      return {
        relativePath: api.workspace.asRelativePath(editor.document.uri, false),
        start: editor.selection.start,
        end: editor.selection.end,
        text,
        languageId: editor.document.languageId,
      };
    },
    includeSelection: () => api.workspace.getConfiguration(Settings.section).get<boolean>(Settings.includeSelection, true),
    showLog,
  };
}
