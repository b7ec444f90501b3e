// How the sidecar is started: its command line, environment and initializationOptions. Pure, so the
// rule that the API key reaches the sidecar's environment and nothing else (the log, the protocol
// trace) is checked under node tests.
import * as path from "node:path";
import { API_KEY_ENV } from "./constants";
import { formatCommand } from "./python";

export interface LaunchInputs {
  /** The interpreter's command and leading arguments, as `findPython` chose them. */
  readonly interpreter: readonly string[];
  readonly extensionPath: string;
  /** The bundle's library folders, in PYTHONPATH order (bundle.ts `chooseBundle`). */
  readonly libs: readonly string[];
  /** The extension host's environment; never modified. */
  readonly baseEnv: NodeJS.ProcessEnv;
  /** The key stored with **Cline Bridge: Set API Key**, if any. */
  readonly apiKey: string | undefined;
}

export interface ServerLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** What to log about the launch. Never the key: say where it comes from, not what it is. */
  readonly logLines: readonly string[];
}

/** What the sidecar is told of the Cline it drives: which records it can follow, and which are this window's. */
export interface ClineFacts {
  /** The installed Cline's version; undefined when Cline is not installed. */
  readonly version: string | undefined;
  /** This extension host's process id: Cline records it in each task it runs in this window. */
  readonly extensionHostPid: number;
}

/** `ClineFacts` as the sidecar reads them (docs/protocol.md, "initializationOptions"). */
export interface ClineOptions {
  readonly installed: boolean;
  readonly version?: string;
  readonly extensionHostPid: number;
}

export interface InitializationOptions {
  readonly clineApi: true;
  readonly cline: ClineOptions;
  readonly model?: string;
  readonly apiBaseUrl?: string;
}

/**
 * The sidecar's launch. A stored key goes into the spawned environment as `CLINE_API_KEY`; without
 * one the inherited environment is left as it is, so a `CLINE_API_KEY` exported before starting
 * VS Code still works.
 */
export function serverLaunch(inputs: LaunchInputs): ServerLaunch {
  const [command = "python3", ...pythonArgs] = inputs.interpreter;
  const args = [...pythonArgs, "-m", "cline_bridge", "serve"];
  // The bundle first: an inherited PYTHONPATH (a user's own pydantic) must not replace the
  // libraries that were chosen for this interpreter's ABI.
  const pythonPath = [...inputs.libs, inputs.baseEnv.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const env: NodeJS.ProcessEnv = { ...inputs.baseEnv, PYTHONPATH: pythonPath };
  let keySource: string;
  if (inputs.apiKey) {
    env[API_KEY_ENV] = inputs.apiKey;
    keySource = "the key stored with Cline Bridge: Set API Key";
  } else if (inputs.baseEnv[API_KEY_ENV]) {
    keySource = `${API_KEY_ENV} inherited from VS Code's environment`;
  } else {
    keySource = "none (Cline Bridge: Set API Key sets one)";
  }
  return {
    command,
    args,
    // Not the workspace: `python -m` puts the working directory first on sys.path, and a
    // workspace with its own cline_bridge/ folder would shadow the bundled sidecar.
    cwd: inputs.extensionPath,
    env,
    logLines: [
      // TransportKind.stdio appends --stdio; log the command as it really runs.
      `Server run command: ${formatCommand([command, ...args, "--stdio"])}`,
      `Server PYTHONPATH: ${pythonPath}`,
      `Cline API key: ${keySource}`,
    ],
  };
}

/** `initializationOptions` for the sidecar; `clineBridge.api.*` settings are sent only when set. */
export function initializationOptions(
  settings: { readonly model: unknown; readonly baseUrl: unknown },
  cline: ClineFacts,
): InitializationOptions {
  const model = nonEmpty(settings.model);
  const apiBaseUrl = nonEmpty(settings.baseUrl);
  const facts: ClineOptions = {
    installed: cline.version !== undefined,
    ...(cline.version !== undefined && { version: cline.version }),
    extensionHostPid: cline.extensionHostPid,
  };
  return { clineApi: true, cline: facts, ...(model && { model }), ...(apiBaseUrl && { apiBaseUrl }) };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
