// The sidecar's clineBridge/* requests, answered by forwarding them to Cline's exports. The language
// client is reached through `RequestReceiver`, so the answers are checked under node tests.
// ResponseError comes from the protocol package, not vscode-languageclient/node, which loads `vscode`;
// the language client re-exports this same class and sends an answer as an error only if it is one.
import { ResponseError } from "vscode-languageserver-protocol";
import type { ClineForwarder, ClineMethod, SendMessageParams, StartNewTaskParams } from "./cline";
import { CLINE_UNAVAILABLE_CODE, ClientRequests } from "./constants";
import { errorMessage } from "./extensions";
import type { Logger } from "./log";

/** The slice of the language client that answers requests from the sidecar. */
export interface RequestReceiver {
  onRequest<P>(method: string, handler: (params: P) => Promise<null | ResponseError>): unknown;
}

/** Answers the sidecar's clineBridge/* requests with null, or a ResponseError carrying the reason. */
export function registerClineRequests(client: RequestReceiver, cline: Pick<ClineForwarder, ClineMethod>, log: Logger): void {
  async function answer(method: string, forward: () => Promise<void>): Promise<null | ResponseError> {
    log.info(`${method}: forwarding to Cline`);
    try {
      await forward();
      log.info(`${method}: dispatched`);
      return null;
    } catch (error) {
      const message = errorMessage(error);
      log.error(`${method}: ${message}`);
      return new ResponseError(CLINE_UNAVAILABLE_CODE, message);
    }
  }

  client.onRequest(ClientRequests.startNewTask, (params: StartNewTaskParams | null) =>
    answer(ClientRequests.startNewTask, () => cline.startNewTask(params)),
  );
  client.onRequest(ClientRequests.sendMessage, (params: SendMessageParams | null) =>
    answer(ClientRequests.sendMessage, () => cline.sendMessage(params)),
  );
  client.onRequest(ClientRequests.pressPrimaryButton, () => answer(ClientRequests.pressPrimaryButton, () => cline.pressPrimaryButton()));
  client.onRequest(ClientRequests.pressSecondaryButton, () => answer(ClientRequests.pressSecondaryButton, () => cline.pressSecondaryButton()));
}
