// A command whose answer streams as work-done `$/progress` while it runs, and its cancellation. The
// language client is reached through `ProgressConnection`, so the rules (the progress handler is
// always disposed; a cancel answers at once) are checked under node tests.
import type { SidecarCommand } from "./commands";
import { REQUEST_CANCELLED_CODE } from "./constants";

/** `workspace/executeCommand` params with a client-chosen work-done token the answer streams on. */
export interface StreamingCommandRequest extends SidecarCommand {
  readonly workDoneToken: string;
}

/** A work-done `$/progress` value: `begin`, `report` (text in `message`) or `end`. */
export interface ProgressValue {
  readonly kind: string;
  readonly message?: string | undefined;
}

/** The part of `vscode.CancellationToken` we use; tests pass a plain object. */
export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

/** The slice of the language client a streaming command needs. */
export interface ProgressConnection {
  onProgress(token: string, handler: (value: ProgressValue) => void): { dispose(): unknown };
  /** Sends `workspace/executeCommand`; cancelling `token` sends `$/cancelRequest`. */
  sendRequest(params: StreamingCommandRequest, token: CancellationLike): Promise<unknown>;
}

/** The request was cancelled here; carries LSP's RequestCancelled code, like the sidecar's answer. */
export class CancelledError extends Error {
  override readonly name = "CancelledError";
  readonly code = REQUEST_CANCELLED_CODE;

  constructor() {
    super("cancelled");
  }
}

/**
 * Settles like `request`, or rejects with `CancelledError` as soon as `token` is cancelled, so a
 * sidecar that is slow to answer `$/cancelRequest` cannot hold the notification open. A later
 * rejection of `request` is then swallowed.
 */
export function rejectOnCancel<T>(request: Promise<T>, token: CancellationLike): Promise<T> {
  if (token.isCancellationRequested) {
    request.catch(() => undefined);
    return Promise.reject(new CancelledError());
  }
  return new Promise<T>((resolve, reject) => {
    const subscription = token.onCancellationRequested(() => reject(new CancelledError()));
    request.then(
      (value) => {
        subscription.dispose();
        resolve(value);
      },
      (error: unknown) => {
        subscription.dispose();
        reject(error);
      },
    );
  });
}

/**
 * Sends `request`, passing its `$/progress` values to `onProgress` until it settles or `token` is
 * cancelled; the progress handler is disposed however it ends.
 */
export async function sendStreamingCommand(
  connection: ProgressConnection,
  request: StreamingCommandRequest,
  onProgress: (value: ProgressValue) => void,
  token: CancellationLike,
): Promise<unknown> {
  if (token.isCancellationRequested) {
    throw new CancelledError();
  }
  const progress = connection.onProgress(request.workDoneToken, onProgress);
  try {
    const params = { command: request.command, arguments: request.arguments, workDoneToken: request.workDoneToken };
    return await rejectOnCancel(connection.sendRequest(params, token), token);
  } finally {
    progress.dispose();
  }
}
