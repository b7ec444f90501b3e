// The Cline API key: kept in VS Code's SecretStorage (the OS keychain where there is one), never in
// settings, never in the log. The sidecar gets it as CLINE_API_KEY in its environment (launch.ts).
import type { CommandHost } from "./commands";
import { API_KEY_SECRET, DISPLAY_NAME, PaletteCommands } from "./constants";
import { errorMessage } from "./extensions";
import type { Logger } from "./log";

/** The part of `vscode.SecretStorage` we use. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

const READ_TIMEOUT_MS = 5_000;

/**
 * The stored key, or undefined when there is none or the secret store fails or hangs (a locked
 * keychain): the sidecar then starts without it rather than not at all.
 */
export async function readApiKey(secrets: SecretStore, log: Logger, timeoutMs = READ_TIMEOUT_MS): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const key = await Promise.race([Promise.resolve(secrets.get(API_KEY_SECRET)), timeout]);
    if (key === "timeout") {
      log.warn(`Reading the stored Cline API key took over ${timeoutMs / 1000} s; starting the sidecar without it`);
      return undefined;
    }
    return key || undefined;
  } catch (error) {
    log.warn(`Could not read the stored Cline API key: ${errorMessage(error)}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Set API Key and Clear API Key. `changed` runs after either, to restart the sidecar with the new
 * environment; it is also wired to `SecretStorage.onDidChange` for changes made in other windows.
 */
export function registerApiKeyCommands(
  host: CommandHost,
  secrets: SecretStore,
  log: Logger,
  changed: () => Promise<void>,
): { dispose(): unknown }[] {
  async function update(verb: string, write: () => PromiseLike<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      log.error(`Could not ${verb} the Cline API key: ${errorMessage(error)}`);
      void host.showErrorMessage(`${DISPLAY_NAME}: could not ${verb} the API key: ${errorMessage(error)}`);
      return;
    }
    const done = verb === "store" ? "set" : "cleared";
    log.info(`API key ${done}`);
    void host.showInformationMessage(`${DISPLAY_NAME}: API key ${done}`);
    await changed();
  }

  async function setApiKey(): Promise<void> {
    const key = (
      await host.showInputBox({
        prompt: "Cline API key, kept in VS Code's secret storage",
        placeHolder: "Paste the key",
        password: true,
        ignoreFocusOut: true,
      })
    )?.trim();
    if (key) {
      await update("store", () => secrets.store(API_KEY_SECRET, key));
    }
  }

  return [
    host.registerCommand(PaletteCommands.setApiKey, setApiKey),
    host.registerCommand(PaletteCommands.clearApiKey, () => update("delete", () => secrets.delete(API_KEY_SECRET))),
  ];
}
