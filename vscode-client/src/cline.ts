import { CLINE_EXTENSION_ID, MIN_CLINE_VERSION } from "./constants";
import { errorMessage, type ExtensionRegistry } from "./extensions";

/** Cline's exports (clineapi.md §2). All four resolve on dispatch, not on completion. */
export interface ClineApi {
  startNewTask(task?: string, images?: string[]): Promise<void>;
  sendMessage(message?: string, images?: string[]): Promise<void>;
  pressPrimaryButton(): Promise<void>;
  pressSecondaryButton(): Promise<void>;
}

export type ClineMethod = keyof ClineApi;

export interface StartNewTaskParams {
  task?: string | null;
  images?: string[] | null;
}

export interface SendMessageParams {
  message?: string | null;
  images?: string[] | null;
}

/** Cline is missing, would not activate, lacks a method, or a call threw. Its message is user-facing. */
export class ClineUnavailableError extends Error {
  override readonly name = "ClineUnavailableError";
}

/**
 * Reaches Cline's exports on every call rather than caching them: the user may install, update or
 * disable Cline while the sidecar runs, and `getExtension` is cheap.
 */
export class ClineForwarder {
  constructor(private readonly extensions: ExtensionRegistry) {}

  startNewTask(params: StartNewTaskParams | null | undefined): Promise<void> {
    return this.call("startNewTask", (api) => api.startNewTask(params?.task ?? undefined, params?.images ?? undefined));
  }

  sendMessage(params: SendMessageParams | null | undefined): Promise<void> {
    return this.call("sendMessage", (api) => api.sendMessage(params?.message ?? undefined, params?.images ?? undefined));
  }

  pressPrimaryButton(): Promise<void> {
    return this.call("pressPrimaryButton", (api) => api.pressPrimaryButton());
  }

  pressSecondaryButton(): Promise<void> {
    return this.call("pressSecondaryButton", (api) => api.pressSecondaryButton());
  }

  /** The installed Cline's version (its package.json), or undefined when Cline is not installed. */
  installedVersion(): string | undefined {
    const version: unknown = this.extensions.getExtension(CLINE_EXTENSION_ID)?.packageJSON?.version;
    return typeof version === "string" ? version : undefined;
  }

  private async call(method: ClineMethod, invoke: (api: ClineApi) => Promise<void>): Promise<void> {
    const api = await this.api(method);
    try {
      await invoke(api);
    } catch (error) {
      throw new ClineUnavailableError(`Cline's ${method} failed: ${errorMessage(error)}`);
    }
  }

  /** Cline's exports, activated if need be, with `method` feature-probed (forks and old versions differ). */
  async api(method: ClineMethod): Promise<ClineApi> {
    const extension = this.extensions.getExtension(CLINE_EXTENSION_ID);
    if (!extension) {
      throw new ClineUnavailableError(
        `Cline (${CLINE_EXTENSION_ID}) is not installed. Install the Cline extension to run tasks from Cline Bridge.`,
      );
    }
    let exports: unknown;
    if (extension.isActive) {
      exports = extension.exports;
    } else {
      // Cline may activate only at onStartupFinished, after us. Reading `exports` before activation
      // throws in VS Code ("not known or not activated"), so take them from activate() instead.
      try {
        exports = await extension.activate();
      } catch (error) {
        throw new ClineUnavailableError(`Cline (${CLINE_EXTENSION_ID}) failed to activate: ${errorMessage(error)}`);
      }
    }
    const candidate = exports as Partial<Record<ClineMethod, unknown>> | null | undefined;
    if (typeof candidate?.[method] !== "function") {
      const version = extension.packageJSON?.version;
      const installed = typeof version === "string" ? `The installed Cline ${version}` : "The installed Cline version";
      throw new ClineUnavailableError(
        `Cline (${CLINE_EXTENSION_ID}) does not export ${method}. ${installed} is too old or too new for ` +
          `Cline Bridge, which needs a Cline release from ${MIN_CLINE_VERSION} on that exports the ClineAPI.`,
      );
    }
    return candidate as ClineApi;
  }
}
