// Test doubles for the slices of VS Code that src/ takes as parameters.
import type { ClineApi } from "../src/cline";
import type { ExtensionLike, ExtensionRegistry } from "../src/extensions";
import type { Logger } from "../src/log";
import type { ProbeAnswer } from "../src/pythonRuntime";

export interface RecordingLogger extends Logger {
  readonly lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string | Error): void => {
      lines.push(`${level}: ${message instanceof Error ? message.message : message}`);
    };
  return {
    lines,
    trace: record("trace"),
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
}

export interface FakeExtension<T> extends ExtensionLike<T> {
  activations: number;
}

/** An extension whose `activate()` flips `isActive` and returns `exports`, or rejects with `activateError`. */
export function fakeExtension<T>(options: {
  exports: T;
  isActive?: boolean;
  version?: string;
  activateError?: Error;
}): FakeExtension<T> {
  let active = options.isActive ?? true;
  const extension: FakeExtension<T> = {
    activations: 0,
    get isActive() {
      return active;
    },
    get exports() {
      // Like VS Code's extension host, which throws rather than returning undefined.
      if (!active) {
        throw new Error("Extension 'fake' is not known or not activated");
      }
      return options.exports;
    },
    packageJSON: { version: options.version ?? "3.99.0" },
    async activate() {
      extension.activations += 1;
      if (options.activateError) {
        throw options.activateError;
      }
      active = true;
      return options.exports;
    },
  };
  return extension;
}

/** Cline's exports, recording each call's method and arguments; the `failing` method throws `refused <method>`. */
export function recordingApi(failing?: keyof ClineApi): ClineApi & { calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  const method =
    (name: keyof ClineApi) =>
    async (...args: unknown[]): Promise<void> => {
      calls.push([name, args]);
      if (name === failing) {
        throw new Error(`refused ${name}`);
      }
    };
  return {
    calls,
    startNewTask: method("startNewTask"),
    sendMessage: method("sendMessage"),
    pressPrimaryButton: method("pressPrimaryButton"),
    pressSecondaryButton: method("pressSecondaryButton"),
  };
}

export function registry(extensions: Record<string, ExtensionLike | undefined>): ExtensionRegistry & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    getExtension(id: string) {
      asked.push(id);
      return extensions[id];
    },
  };
}

export interface FakeCancellation {
  isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
  cancel(): void;
  /** Listeners still subscribed: a finished request must leave none behind. */
  readonly listeners: number;
}

/** A cancellation token like vscode's: `cancel()` sets the flag and calls each listener once. */
export function fakeCancellation(): FakeCancellation {
  const listeners = new Set<() => unknown>();
  const token: FakeCancellation = {
    isCancellationRequested: false,
    onCancellationRequested(listener) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
    cancel() {
      if (!token.isCancellationRequested) {
        token.isCancellationRequested = true;
        [...listeners].forEach((listener) => listener());
      }
    },
    get listeners() {
      return listeners.size;
    },
  };
  return token;
}

/** An error shaped like vscode-jsonrpc's ResponseError, as the language client rejects with. */
export class FakeResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** What the interpreter probe (src/pythonRuntime.ts) answers: a CPython 3.12 on Linux x86_64 unless `overrides` say otherwise. */
export function probeAnswer(overrides: Partial<ProbeAnswer> = {}): ProbeAnswer {
  return {
    version: "3.12.4",
    implementation: "cpython",
    platform: "linux",
    machine: "x86_64",
    bits: 64,
    sysconfigPlatform: "linux-x86_64",
    gnuType: "x86_64-pc-linux-gnu",
    freeThreaded: false,
    ...overrides,
  };
}

/** `probeAnswer(overrides)` as the probe prints it. */
export function probeOutput(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(probeAnswer(overrides as Partial<ProbeAnswer>));
}
