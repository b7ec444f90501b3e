// CLINE_BRIDGE in the integrated terminals: a script started there (`cline-bridge task "…"`) reaches
// this window's sidecar through the discovery file it names. The value follows the sidecar: set
// once it runs and reports its control endpoint, removed when it stops, replaced when it restarts
// (a new pid, a new file). The extension never opens the file; the token inside is for the scripts.
import type { BridgeStatus } from "./client";
import type { Sidecar } from "./commands";
import { ServerCommands, TERMINAL_ENV_DESCRIPTION, TERMINAL_ENV_VAR } from "./constants";
import { errorMessage } from "./extensions";
import type { Logger } from "./log";

export type TerminalEnvChange =
  | { readonly kind: "set"; readonly discoveryFile: string }
  | { readonly kind: "delete"; readonly reason: string };

/** What the terminals' environment should say, given a `clineBridge.status` result. */
export function terminalEnvChange(status: unknown): TerminalEnvChange {
  if (!isRecord(status)) {
    return { kind: "delete", reason: "the sidecar's status is not an object" };
  }
  const control = status.control;
  if (control === null || control === undefined) {
    return { kind: "delete", reason: "the sidecar has no control endpoint" };
  }
  if (!isRecord(control) || typeof control.discoveryFile !== "string" || control.discoveryFile === "") {
    return { kind: "delete", reason: "the sidecar's status names no discovery file" };
  }
  return { kind: "set", discoveryFile: control.discoveryFile };
}

/** The slice of `vscode.EnvironmentVariableCollection` this module uses. */
export interface TerminalEnvironment {
  persistent: boolean;
  description: string | { readonly value: string } | undefined;
  replace(variable: string, value: string): void;
  delete(variable: string): void;
}

/** What this module needs from the sidecar's client (`BridgeClient`). */
export interface StatusSource extends Pick<Sidecar, "executeCommand"> {
  readonly status: BridgeStatus;
  onDidChangeStatus(listener: (status: BridgeStatus) => unknown): { dispose(): unknown };
}

/** Keeps CLINE_BRIDGE in `environment` in step with the sidecar's control endpoint. */
export class TerminalEnv {
  private readonly subscription: { dispose(): unknown };
  /** The discovery file the terminals get now, if any. */
  private current: string | undefined;
  /** Bumped on each status change, so an answer from a sidecar that has stopped since is dropped. */
  private generation = 0;
  private disposed = false;

  constructor(
    private readonly environment: TerminalEnvironment,
    private readonly sidecar: StatusSource,
    private readonly log: Logger,
  ) {
    // Never cached: after a reload the old sidecar and its file are gone.
    environment.persistent = false;
    environment.description = TERMINAL_ENV_DESCRIPTION;
    environment.delete(TERMINAL_ENV_VAR);
    this.subscription = sidecar.onDidChangeStatus((status) => void this.update(status));
    void this.update(sidecar.status);
  }

  dispose(): void {
    this.disposed = true;
    this.subscription.dispose();
    this.remove("the extension is shutting down");
  }

  /** Never rejects: a failed status request removes the variable. */
  private async update(status: BridgeStatus): Promise<void> {
    const generation = ++this.generation;
    if (status.state !== "running") {
      this.remove("the sidecar is not running");
      return;
    }
    let change: TerminalEnvChange;
    let failed = false;
    try {
      const answer = await this.sidecar.executeCommand({ command: ServerCommands.status, arguments: [] });
      change = terminalEnvChange(answer);
    } catch (error) {
      change = { kind: "delete", reason: `asking the sidecar for its status failed: ${errorMessage(error)}` };
      failed = true;
    }
    if (generation !== this.generation || this.disposed) {
      return;
    }
    if (change.kind === "set") {
      if (change.discoveryFile !== this.current) {
        this.environment.replace(TERMINAL_ENV_VAR, change.discoveryFile);
        this.current = change.discoveryFile;
        this.log.info(`Terminals get ${TERMINAL_ENV_VAR}=${change.discoveryFile}`);
      }
    } else {
      this.environment.delete(TERMINAL_ENV_VAR);
      this.current = undefined;
      this.log[failed ? "warn" : "info"](`Terminals get no ${TERMINAL_ENV_VAR}: ${change.reason}`);
    }
  }

  private remove(reason: string): void {
    if (this.current === undefined) {
      return;
    }
    this.environment.delete(TERMINAL_ENV_VAR);
    this.current = undefined;
    this.log.info(`Terminals no longer get ${TERMINAL_ENV_VAR}: ${reason}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
