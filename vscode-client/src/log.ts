import * as vscode from "vscode";
import { DISPLAY_NAME } from "./constants";

/** The subset of a log channel that the pure modules need; tests pass a recorder. */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

const consoleMethods: Record<string, "log" | "warn" | "error"> = {
  trace: "log",
  debug: "log",
  info: "log",
  warn: "warn",
  error: "error",
  append: "log",
  appendLine: "log",
};

/**
 * One channel for our own log, the language client's log and its protocol trace, so a bug report
 * needs one copy-paste. In CI (`CI=true`) every line is mirrored to the console, because the
 * extension host's output is the only log an end-to-end run keeps.
 */
export function createLogChannel(): vscode.LogOutputChannel {
  const channel = vscode.window.createOutputChannel(DISPLAY_NAME, { log: true });
  if (process.env.CI !== "true") {
    return channel;
  }
  return new Proxy(channel, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") {
        return value;
      }
      const mirror = typeof property === "string" ? consoleMethods[property] : undefined;
      return (...args: unknown[]) => {
        if (mirror) {
          console[mirror](`[${DISPLAY_NAME}] ${String(property)}:`, ...args);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
