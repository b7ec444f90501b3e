import * as os from "node:os";
import * as readline from "node:readline";
import * as vscode from "vscode";
import {
  CancellationTokenSource,
  CloseAction,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  WorkDoneProgress,
  type ErrorHandler,
  type Executable,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { readApiKey, type SecretStore } from "./apiKey";
import type { ChatSidecar } from "./ask";
import { chooseBundle, loadManifest, type Bundle, type ManifestLoad } from "./bundle";
import { ClineForwarder } from "./cline";
import { registerClineRequests } from "./clineRequests";
import { logTaskEvents } from "./taskEvents";
import type { Sidecar, SidecarCommand } from "./commands";
import { CLIENT_ID, DISPLAY_NAME, Settings } from "./constants";
import { errorMessage } from "./extensions";
import { initializationOptions, serverLaunch } from "./launch";
import { describeInterpreter, findPython, formatCommand, type Interpreter } from "./python";
import { stderrClassifier } from "./serverOutput";
import {
  sendStreamingCommand,
  type CancellationLike,
  type ProgressValue,
  type StreamingCommandRequest,
} from "./streaming";

export type BridgeState = "starting" | "running" | "stopped";

export interface BridgeStatus {
  readonly state: BridgeState;
  /** One line for the status bar tooltip: the interpreter, or why the sidecar is not running. */
  readonly detail: string;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 2_000;

/**
 * Owns the sidecar's language client. Every start, stop and restart runs through one queue, so a
 * settings change during start-up cannot race it; restarts coalesce to at most one waiting.
 */
export class BridgeClient implements Sidecar, ChatSidecar, vscode.Disposable {
  private client: SidecarLanguageClient | undefined;
  private clientSubscription: vscode.Disposable | undefined;
  private lifecycle: Promise<void> = Promise.resolve();
  private pendingRestart: Promise<void> | undefined;
  private disposed = false;
  private running: { interpreter: Interpreter; version: string; bundle: Bundle } | undefined;
  /** The VSIX's bundle manifest: read once, since the extension's files do not change under it. */
  private manifest: Promise<ManifestLoad> | undefined;
  /** The stored API key the running sidecar was started with, to tell whether a change needs a restart. */
  private apiKeyInUse: string | undefined;
  /** The Cline version the running sidecar was told of (undefined: Cline was not installed). */
  private clineVersionInUse: string | undefined;
  /** The sidecar's last error-level stderr line: says why it failed better than a closed connection. */
  private lastServerError: string | undefined;
  private current: BridgeStatus = { state: "stopped", detail: "Not started yet" };
  private readonly statusEmitter = new vscode.EventEmitter<BridgeStatus>();
  private readonly cline = new ClineForwarder(vscode.extensions);

  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly extensionPath: string,
    private readonly channel: vscode.LogOutputChannel,
    private readonly secrets: SecretStore,
  ) {}

  get status(): BridgeStatus {
    return this.current;
  }

  /** Starts the sidecar unless it is already up. */
  start(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.client) {
        await this.startClient();
      }
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopClient());
  }

  restart(): Promise<void> {
    if (!this.pendingRestart) {
      const restart = this.enqueue(async () => {
        // From here on a new request must queue another restart: this one may have read old settings.
        this.pendingRestart = undefined;
        await this.stopClient();
        await this.startClient();
      });
      this.pendingRestart = restart;
    }
    return this.pendingRestart;
  }

  async ready(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, READY_TIMEOUT_MS);
    });
    await Promise.race([this.lifecycle, timeout]);
    clearTimeout(timer);
    return this.client?.isRunning() ?? false;
  }

  async executeCommand(request: SidecarCommand): Promise<unknown> {
    const client = this.client;
    if (!client?.isRunning()) {
      throw new Error("the sidecar is not running");
    }
    this.channel.info(`Sending ${request.command}`);
    return client.sendRequest(ExecuteCommandRequest.type, { command: request.command, arguments: request.arguments });
  }

  /**
   * Sends a command with a work-done token and passes its `$/progress` values to `onProgress`.
   * Cancelling `token` sends `$/cancelRequest` and rejects at once with `CancelledError`.
   */
  async executeStreamingCommand(
    request: StreamingCommandRequest,
    onProgress: (value: ProgressValue) => void,
    token: CancellationLike,
  ): Promise<unknown> {
    const client = this.client;
    if (!client?.isRunning()) {
      throw new Error("the sidecar is not running");
    }
    this.channel.info(`Sending ${request.command}`);
    return sendStreamingCommand(
      {
        onProgress: (workDoneToken, handler) => client.onProgress(WorkDoneProgress.type, workDoneToken, handler),
        sendRequest: async (params, cancel) => {
          // The client wants its own token type; forward vscode's.
          const source = new CancellationTokenSource();
          const forward = cancel.onCancellationRequested(() => source.cancel());
          try {
            return await client.sendRequest(ExecuteCommandRequest.type, params, source.token);
          } finally {
            forward.dispose();
            source.dispose();
          }
        },
      },
      request,
      onProgress,
      token,
    );
  }

  /**
   * Restarts a started sidecar if the stored API key differs from the one it got. Queued behind any
   * start or restart in flight, so it compares against the key that start really used.
   */
  apiKeyChanged(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.client || this.disposed) {
        return;
      }
      const key = await readApiKey(this.secrets, this.channel);
      if (key === this.apiKeyInUse) {
        return;
      }
      this.channel.info("The Cline API key changed: restarting the sidecar");
      await this.stopClient();
      await this.startClient();
    });
  }

  /**
   * Restarts a started sidecar if Cline was installed, removed or updated since it started: what it
   * follows of Cline's tasks depends on the version (`initializationOptions.cline`).
   */
  clineChanged(): Promise<void> {
    return this.enqueue(async () => {
      const version = this.cline.installedVersion();
      if (!this.client || this.disposed || version === this.clineVersionInUse) {
        return;
      }
      this.channel.info(`Cline changed (${this.clineVersionInUse ?? "not installed"} -> ${version ?? "not installed"}): restarting the sidecar`);
      await this.stopClient();
      await this.startClient();
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
    this.statusEmitter.dispose();
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(operation);
    this.lifecycle = run.catch((error: unknown) => this.channel.error(`Sidecar lifecycle failed: ${errorMessage(error)}`));
    return run;
  }

  private setStatus(state: BridgeState, detail: string): void {
    this.current = { state, detail };
    this.statusEmitter.fire(this.current);
  }

  private async startClient(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.setStatus("starting", "Checking the Python interpreter");
    const bundled = await (this.manifest ??= loadManifest(this.extensionPath));
    if (!bundled.ok) {
      this.channel.error(bundled.message);
      this.setStatus("stopped", bundled.message);
      void this.showError(bundled.message, false);
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const check = await findPython({
      setting: vscode.workspace.getConfiguration(Settings.section, folder?.uri).get<unknown>(Settings.interpreter),
      workspaceFolder: folder?.uri.fsPath,
      userHome: os.homedir(),
      resource: folder?.uri,
      extensions: vscode.extensions,
      log: this.channel,
    });
    if (!check.ok) {
      this.setStatus("stopped", check.message);
      void this.showError(check.message);
      return;
    }
    const choice = chooseBundle(bundled.manifest, bundled.libsRoot, check.runtime, describeInterpreter(check.interpreter));
    if (!choice.ok) {
      this.channel.error(choice.message);
      this.setStatus("stopped", choice.message);
      void this.showError(choice.message);
      return;
    }
    const { bundle } = choice;
    this.channel.info(`Bundled libraries: ${bundle.abi} for ${bundle.target} (Cline Bridge ${bundle.version})`);
    if (this.disposed) {
      return;
    }

    const config = vscode.workspace.getConfiguration(Settings.section, folder?.uri);
    const apiKey = await readApiKey(this.secrets, this.channel);
    if (this.disposed) {
      return;
    }
    const launch = serverLaunch({
      interpreter: check.interpreter.command,
      extensionPath: this.extensionPath,
      libs: bundle.libs,
      baseEnv: process.env,
      apiKey,
    });
    const serverOptions: Executable = {
      command: launch.command,
      args: [...launch.args],
      transport: TransportKind.stdio,
      options: { cwd: launch.cwd, env: launch.env },
    };
    for (const line of launch.logLines) {
      this.channel.info(line);
    }

    const clineVersion = this.cline.installedVersion();
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.channel,
      traceOutputChannel: this.channel,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // Never the API key: the protocol trace prints initializationOptions. It travels in the env.
      initializationOptions: initializationOptions(
        { model: config.get<unknown>(Settings.apiModel), baseUrl: config.get<unknown>(Settings.apiBaseUrl) },
        { version: clineVersion, extensionHostPid: process.pid },
      ),
      stdioOptions: {
        stdout: (input, channel) => forEachLine(input, (line) => channel.info(line)),
        stderr: (input, channel) => {
          const classify = stderrClassifier();
          forEachLine(input, (line) => {
            const level = classify(line);
            channel[level](line);
            if (level === "error" && line.trim() !== "") {
              this.lastServerError = line.trim();
            }
          });
        },
      },
      errorHandler: this.errorHandler(() => client),
      // Without this the client pops its own toast; startClient reports the failure with its cause.
      initializationFailedHandler: () => false,
    };
    this.lastServerError = undefined;
    const client = new SidecarLanguageClient(serverOptions, clientOptions);
    registerClineRequests(client, this.cline, this.channel);
    logTaskEvents(client, this.channel);
    this.running = { interpreter: check.interpreter, version: check.runtime.version, bundle };
    this.apiKeyInUse = apiKey;
    this.clineVersionInUse = clineVersion;
    this.clientSubscription = client.onDidChangeState(({ newState }) => this.onClientState(newState));
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const message = `Cline Bridge: the sidecar failed to start: ${this.lastServerError ?? errorMessage(error)}`;
      this.channel.error(message);
      await this.stopClient(message);
      void this.showError(message);
    }
  }

  private async stopClient(detail = "Stopped"): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientSubscription?.dispose();
    this.clientSubscription = undefined;
    this.running = undefined;
    if (client) {
      try {
        await client.dispose(STOP_TIMEOUT_MS);
      } catch (error) {
        // A client whose start failed cannot be stopped; its process is gone already.
        this.channel.debug(`Stopping the language client: ${errorMessage(error)}`);
      }
    }
    this.setStatus("stopped", detail);
  }

  private onClientState(state: State): void {
    switch (state) {
      case State.Starting:
        this.setStatus("starting", "Starting the sidecar");
        break;
      case State.Running: {
        const running = this.running;
        const python = running ? `Python ${running.version} (${running.bundle.abi}): ${formatCommand(running.interpreter.command)}` : "";
        this.setStatus("running", python);
        break;
      }
      case State.Stopped:
      case State.StartFailed:
        this.setStatus("stopped", "The sidecar stopped; see the log");
        break;
    }
  }

  /**
   * The default handler restarts a closed connection up to four times; that helps a sidecar that
   * crashed, but one that never started (a missing module) would only fail four more times.
   */
  private errorHandler(client: () => SidecarLanguageClient): ErrorHandler {
    let defaults: ErrorHandler | undefined;
    const fallback = (): ErrorHandler => (defaults ??= client().createDefaultErrorHandler());
    return {
      error: (error, message, count) => fallback().error(error, message, count),
      closed: () => (client().reachedRunning ? fallback().closed() : { action: CloseAction.DoNotRestart, handled: true }),
    };
  }

  /** `settings`: offer to open the interpreter setting (pointless when the extension is damaged). */
  private async showError(message: string, settings = true): Promise<void> {
    const actions = settings ? ["Open Settings", "Show Log"] : ["Show Log"];
    const choice = await vscode.window.showErrorMessage(message, ...actions);
    if (choice === "Show Log") {
      this.channel.show(true);
    } else if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", `${Settings.section}.${Settings.interpreter}`);
    }
  }
}

/**
 * Until the sidecar first runs, BridgeClient reports a failed start itself, naming the cause from
 * stderr; the stock client would add two toasts of its own ("couldn't create connection").
 */
class SidecarLanguageClient extends LanguageClient {
  reachedRunning = false;

  constructor(serverOptions: ServerOptions, clientOptions: LanguageClientOptions) {
    super(CLIENT_ID, DISPLAY_NAME, serverOptions, clientOptions);
    this.onDidChangeState(({ newState }) => {
      this.reachedRunning ||= newState === State.Running;
    });
  }

  override error(message: string, data?: unknown, showNotification: boolean | "force" = true): void {
    super.error(message, data, this.reachedRunning ? showNotification : false);
  }
}

function forEachLine(input: NodeJS.ReadableStream, handle: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on("line", handle);
}
