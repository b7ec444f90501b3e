// "Cline Bridge: Ask…": one question to the Cline REST API through the sidecar's clineBridge.chat,
// the answer streamed into an output channel. Everything reaches VS Code through `AskHost`, so the
// flow runs under node tests; `vscodeAskHost` is the only adapter to the real API.
import { randomUUID } from "node:crypto";
import type * as vscode from "vscode";
import {
  buildTaskText,
  contextSelection,
  selectionLabel,
  sidecarRunning,
  SHOW_LOG,
  type CommandHost,
  type SelectionContext,
  type Sidecar,
} from "./commands";
import {
  ANSWERS_CHANNEL,
  API_ERROR_CODE,
  DISPLAY_NAME,
  NO_API_KEY_CODE,
  PaletteCommands,
  REQUEST_CANCELLED_CODE,
  ServerCommands,
} from "./constants";
import { errorMessage } from "./extensions";
import type { Logger } from "./log";
import type { CancellationLike, ProgressValue, StreamingCommandRequest } from "./streaming";

/** What Ask needs from the sidecar's client (`BridgeClient`). */
export interface ChatSidecar extends Pick<Sidecar, "ready" | "restart"> {
  /** Sends `request`, passing its `$/progress` values to `onProgress` until it settles; `token` cancels it. */
  executeStreamingCommand(
    request: StreamingCommandRequest,
    onProgress: (value: ProgressValue) => void,
    token: CancellationLike,
  ): Promise<unknown>;
}

export interface AnswerChannel {
  append(text: string): void;
  show(preserveFocus: boolean): void;
}

/** What Ask needs from VS Code, beyond the palette commands' needs. */
export interface AskHost extends CommandHost {
  /** Runs `task` under a cancellable progress notification. */
  withCancellableProgress<T>(title: string, task: (token: CancellationLike) => Promise<T>): PromiseLike<T>;
  /** The answers channel, created on first use. */
  answers(): AnswerChannel;
  executeCommand(id: string): PromiseLike<unknown>;
  /** A fresh work-done token. */
  newToken(): string;
  readonly log: Logger;
}

export const ASK_PROMPT = "Ask Cline (REST API)";
export const ASK_PROGRESS_TITLE = "Asking Cline…";
export const SET_API_KEY = "Set API Key";

/** The `clineBridge.chat` request for a question, the selection appended as Start New Task does. */
export function chatRequest(question: string, selection: SelectionContext | undefined, workDoneToken: string): StreamingCommandRequest {
  return { command: ServerCommands.chat, arguments: [{ prompt: buildTaskText(question, selection) }], workDoneToken };
}

/** The line above an answer in the answers channel (a Markdown heading: the channel is Markdown). */
export function answerHeader(question: string, selection?: SelectionContext): string {
  const context = selection ? `the selection in ${selectionLabel(selection)}` : "";
  if (question.trim() === "") {
    return `## (${context})`;
  }
  return context ? `## ${question.trim()} (with ${context})` : `## ${question.trim()}`;
}

/** What to append after `streamed` so the channel ends with exactly `text`, the final answer. */
export function answerRemainder(streamed: string, text: string): string {
  if (text.startsWith(streamed)) {
    return text.slice(streamed.length);
  }
  // The stream and the result disagree; an output channel cannot take text back, so say so and repeat it whole.
  return `\n\n[The streamed text differs from the final answer, which follows in full.]\n\n${text}`;
}

/** Writes one answer: the streamed reports while they arrive, then whatever they missed. */
export class AnswerWriter {
  private streamed = "";
  private open = true;

  constructor(private readonly channel: Pick<AnswerChannel, "append">) {}

  progress(value: ProgressValue): void {
    if (!this.open || value.kind !== "report" || typeof value.message !== "string" || value.message === "") {
      return;
    }
    this.streamed += value.message;
    this.channel.append(value.message);
  }

  /** Ends the answer with the result's text; later reports are ignored. */
  finish(text: string): void {
    if (!this.open) {
      return;
    }
    this.open = false;
    const rest = answerRemainder(this.streamed, text);
    if (rest !== "") {
      this.channel.append(rest);
    }
  }

  /** Ends an answer that will not come, with a note in brackets. */
  abandon(note: string): void {
    if (!this.open) {
      return;
    }
    this.open = false;
    this.channel.append(`${this.streamed === "" ? "" : "\n\n"}[${note}]`);
  }
}

/** How a failed Ask is reported: the message, its button, a note in the answers channel, a log line. */
export interface AskFailure {
  readonly kind: "cancelled" | "noApiKey" | "error";
  readonly message: string;
  readonly action?: string;
  readonly note: string;
  readonly log: string;
}

/** Maps the request's error to the user-facing message; codes as in the wire contract. */
export function askFailure(error: unknown): AskFailure {
  const code = errorCode(error);
  const reason = errorMessage(error);
  if (code === REQUEST_CANCELLED_CODE) {
    return { kind: "cancelled", message: `${DISPLAY_NAME}: cancelled`, note: "cancelled", log: "Cline chat cancelled" };
  }
  if (code === NO_API_KEY_CODE) {
    return {
      kind: "noApiKey",
      message: `${DISPLAY_NAME}: no Cline API key is set.`,
      action: SET_API_KEY,
      note: "no Cline API key is set",
      log: `Cline chat failed: ${reason}`,
    };
  }
  const detail = code === API_ERROR_CODE ? apiErrorDetail((error as { data?: unknown }).data) : "";
  return {
    kind: "error",
    message: `${DISPLAY_NAME}: ${reason}`,
    action: SHOW_LOG,
    note: `failed: ${reason}`,
    log: `Cline chat failed: ${reason}${detail}`,
  };
}

/** The `data` of a REST API error (`{status, code, requestId, retryable}`) as ` (HTTP 429, ...)`, or "". */
export function apiErrorDetail(data: unknown): string {
  if (typeof data !== "object" || data === null) {
    return "";
  }
  const { status, code, requestId, retryable } = data as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof status === "number") {
    parts.push(`HTTP ${status}`);
  }
  if ((typeof code === "string" && code !== "") || typeof code === "number") {
    parts.push(`code ${code}`);
  }
  if (typeof requestId === "string" && requestId !== "") {
    parts.push(`request id ${requestId}`);
  }
  if (typeof retryable === "boolean") {
    parts.push(retryable ? "retryable" : "not retryable");
  }
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** A string field of the chat result, or undefined when the result has none. */
function resultField(result: unknown, field: "text" | "model" | "finishReason"): string | undefined {
  const value = typeof result === "object" && result !== null ? (result as Record<string, unknown>)[field] : undefined;
  return typeof value === "string" ? value : undefined;
}

export function registerAsk(host: AskHost, sidecar: ChatSidecar): { dispose(): unknown }[] {
  let answered = 0;

  async function ask(): Promise<void> {
    const selection = contextSelection(host);
    const prompt = selection ? `${ASK_PROMPT} (the selection in ${selectionLabel(selection)} is appended as context)` : ASK_PROMPT;
    const question = await host.showInputBox({ prompt, placeHolder: "Your question", ignoreFocusOut: true });
    if (question === undefined || (question.trim() === "" && !selection)) {
      return;
    }
    if (!(await sidecarRunning(host, sidecar))) {
      return;
    }
    const request = chatRequest(question, selection, host.newToken());
    const channel = host.answers();
    channel.append(`${answered > 0 ? "\n\n" : ""}${answerHeader(question, selection)}\n\n`);
    answered += 1;
    channel.show(true);
    const writer = new AnswerWriter(channel);
    let result: unknown;
    try {
      result = await host.withCancellableProgress(ASK_PROGRESS_TITLE, (token) =>
        sidecar.executeStreamingCommand(request, (value) => writer.progress(value), token),
      );
    } catch (error) {
      const failure = askFailure(error);
      writer.abandon(failure.note);
      host.log[failure.kind === "cancelled" ? "info" : "error"](failure.log);
      await showFailure(failure);
      return;
    }
    writer.finish(resultField(result, "text") ?? "");
    const model = resultField(result, "model");
    const finishReason = resultField(result, "finishReason");
    host.log.info(`Cline chat answered${model ? ` by ${model}` : ""}${finishReason ? ` (finish reason: ${finishReason})` : ""}`);
  }

  async function showFailure(failure: AskFailure): Promise<void> {
    if (failure.kind === "cancelled") {
      void host.showInformationMessage(failure.message);
      return;
    }
    const choice = await host.showErrorMessage(failure.message, ...(failure.action ? [failure.action] : []));
    if (choice === SET_API_KEY) {
      await host.executeCommand(PaletteCommands.setApiKey);
    } else if (choice === SHOW_LOG) {
      host.showLog();
    }
  }

  return [host.registerCommand(PaletteCommands.ask, ask)];
}

/** Adapts the real `vscode` module to `AskHost`; disposing it disposes the answers channel. */
export function vscodeAskHost(api: typeof vscode, base: CommandHost, log: Logger): AskHost & { dispose(): void } {
  let channel: vscode.OutputChannel | undefined;
  return {
    ...base,
    withCancellableProgress: (title, task) =>
      api.window.withProgress({ location: api.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => task(token)),
    // Markdown, as the answers mostly are: the channel highlights their code blocks and headings.
    answers: () => (channel ??= api.window.createOutputChannel(ANSWERS_CHANNEL, "markdown")),
    executeCommand: (id) => api.commands.executeCommand(id),
    newToken: () => randomUUID(),
    log,
    dispose: () => channel?.dispose(),
  };
}
