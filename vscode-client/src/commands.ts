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
  showInformationMessage(message: string, ...items: string[]): PromiseLike<string | undefined>;
  showWarningMessage(message: string, ...items: string[]): PromiseLike<string | undefined>;
  showErrorMessage(message: string, ...items: string[]): PromiseLike<string | undefined>;
  activeSelection(): SelectionContext | undefined;
  includeSelection(): boolean;
  showLog(): void;
}

export const SHOW_LOG = "Show Log";
const RESTART = "Restart";
/** Offered when a button pressed nothing: press it all the same (Cline then resumes the task). */
export const PRESS_ANYWAY = "Press Anyway";

export type ButtonAction = Extract<PaletteAction, "approve" | "reject">;

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

/** The button's command with `force`: pressed even with nothing waiting for an answer. */
export function forcedPress(action: ButtonAction): SidecarCommand {
  return { ...sidecarCommand(action), arguments: [{ force: true }] };
}

const waitingWords: Record<string, string> = {
  running: "Cline is working on the task",
  idle: "the task waits for a message",
  none: "there is no task",
  failed: "the task failed",
};

/**
 * What a button did, in words, from the sidecar's result (docs/protocol.md, "Button results"), and
 * whether it pressed nothing (then the user may press anyway). A sidecar that says no more than
 * "dispatched" gets the old words.
 */
export function pressOutcome(action: ButtonAction, result: unknown): { message: string; pressedNothing: boolean } {
  const fields = typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {};
  const title = typeof fields.title === "string" && fields.title !== "" ? fields.title : "the tool call";
  switch (fields.action) {
    case "approved":
    case "rejected":
      return { message: `${fields.action} ${title}`, pressedNothing: false };
    case "none": {
      const why = typeof fields.state === "string" ? waitingWords[fields.state] : undefined;
      return { message: `nothing to ${action}${why ? `: ${why}` : ""}`, pressedNothing: true };
    }
    case "resumed":
      return { message: "nothing waited for an answer: Cline goes on with the task (a new turn)", pressedNothing: false };
    case "cancelled":
      return { message: "stopped Cline's running turn", pressedNothing: false };
    case "pressed":
      return { message: `pressed Cline's ${action === "approve" ? "primary" : "secondary"} button`, pressedNothing: false };
    default:
      return { message: dispatched[action], pressedNothing: false };
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
  /** The sidecar's result, or undefined after showing its error. */
  async function execute(request: SidecarCommand): Promise<{ result: unknown } | undefined> {
    try {
      return { result: await sidecar.executeCommand(request) };
    } catch (error) {
      const choice = await host.showErrorMessage(`${DISPLAY_NAME}: ${errorMessage(error)}`, SHOW_LOG);
      if (choice === SHOW_LOG) {
        host.showLog();
      }
      return undefined;
    }
  }

  // ClineAPI is fire-and-forget: a resolved task or message means "dispatched", so the messages say no more.
  async function send(action: "newTask" | "message", text?: string): Promise<void> {
    if ((await sidecarRunning(host, sidecar)) && (await execute(sidecarCommand(action, text)))) {
      void host.showInformationMessage(`${DISPLAY_NAME}: ${dispatched[action]}`);
    }
  }

  // A button says what it pressed; with nothing waiting it pressed nothing, and offers to press anyway.
  async function press(action: ButtonAction): Promise<void> {
    const answered = (await sidecarRunning(host, sidecar)) ? await execute(sidecarCommand(action)) : undefined;
    if (!answered) {
      return;
    }
    const outcome = pressOutcome(action, answered.result);
    if (!outcome.pressedNothing) {
      void host.showInformationMessage(`${DISPLAY_NAME}: ${outcome.message}`);
      return;
    }
    const choice = await host.showInformationMessage(`${DISPLAY_NAME}: ${outcome.message}`, PRESS_ANYWAY);
    const forced = choice === PRESS_ANYWAY ? await execute(forcedPress(action)) : undefined;
    if (forced) {
      void host.showInformationMessage(`${DISPLAY_NAME}: ${pressOutcome(action, forced.result).message}`);
    }
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
    host.registerCommand(PaletteCommands.approve, () => press("approve")),
    host.registerCommand(PaletteCommands.reject, () => press("reject")),
    host.registerCommand(PaletteCommands.restart, () => sidecar.restart()),
    host.registerCommand(PaletteCommands.showLog, async () => host.showLog()),
  ];
}

/** Adapts the real `vscode` module (passed in, so this file never loads it) to `CommandHost`. */
export function vscodeCommandHost(api: typeof vscode, showLog: () => void): CommandHost {
  return {
    registerCommand: (id, run) => api.commands.registerCommand(id, run),
    showInputBox: (options) => api.window.showInputBox(options),
    showInformationMessage: (message, ...items) => api.window.showInformationMessage(message, ...items),
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
