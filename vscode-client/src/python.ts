import { execFile } from "node:child_process";
import { PYTHON_EXTENSION_ID, Settings } from "./constants";
import { errorMessage, type ExtensionRegistry } from "./extensions";
import type { Logger } from "./log";
import { parseProbe, PROBE_SCRIPT, type PythonRuntime } from "./pythonRuntime";

/** Where the interpreter came from; the error message and the log name it. */
export type InterpreterSource = "setting" | "python-extension" | "path";

export interface Interpreter {
  /** Command plus leading arguments, e.g. `["/usr/bin/python3"]` or `["py", "-3.12"]`. */
  readonly command: readonly string[];
  readonly source: InterpreterSource;
  /** Human-readable origin, e.g. `the "clineBridge.interpreter" setting`. */
  readonly reason: string;
}

export type PythonCheck =
  | { readonly ok: true; readonly interpreter: Interpreter; readonly runtime: PythonRuntime }
  | { readonly ok: false; readonly interpreter: Interpreter; readonly message: string };

/** Runs `command args...` and resolves with its stdout, or rejects with a one-line reason. */
export type RunCommand = (command: string, args: readonly string[]) => Promise<string>;

export interface PythonLookup {
  /** The raw `clineBridge.interpreter` setting value. */
  readonly setting: unknown;
  readonly workspaceFolder: string | undefined;
  readonly userHome: string;
  /** Passed to the Python extension so multi-root workspaces get the folder's environment. */
  readonly resource?: unknown;
  readonly extensions: ExtensionRegistry;
  readonly log: Logger;
  readonly run?: RunCommand;
}

/** The parts of the Python extension's exports we use; every member may be missing. */
interface PythonExtensionApi {
  readonly environments?: {
    getActiveEnvironmentPath?(resource?: unknown): { readonly id?: string; readonly path?: string } | undefined;
    resolveEnvironment?(
      environment: unknown,
    ): PromiseLike<{ readonly executable?: { readonly uri?: { readonly fsPath?: string } } } | undefined>;
  };
  readonly settings?: {
    getExecutionDetails?(resource?: unknown): { readonly execCommand?: readonly string[] } | undefined;
  };
}

const SETTING = `${Settings.section}.${Settings.interpreter}`;
const VERSION_TIMEOUT_MS = 15_000;
// Which versions fit is the bundle's to say (bundle.ts); here the interpreter does not even run.
const HOW_TO_FIX = `Set "${SETTING}" to a Python interpreter, e.g. ["/usr/bin/python3"] or ["\${workspaceFolder}/.venv/bin/python"].`;

/** Replaces `${workspaceFolder}` and `${userHome}`; other text is left alone. */
export function resolveVariables(value: string, vars: { workspaceFolder?: string | undefined; userHome: string }): string {
  return value.replace(/\$\{(workspaceFolder|userHome)\}/g, (match, name: string) => {
    const replacement = name === "userHome" ? vars.userHome : vars.workspaceFolder;
    return replacement ?? match;
  });
}

/** Quotes arguments with spaces or quotes, so a logged command can be pasted into a shell. */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((arg) => (arg === "" || /[\s"'\\$`]/.test(arg) ? `'${arg.replace(/'/g, `'\\''`)}'` : arg)).join(" ");
}

function settingCommand(setting: unknown, log: Logger): string[] | undefined {
  // A plain string is what users coming from other extensions' "pythonPath" settings tend to write.
  const raw = typeof setting === "string" ? [setting] : setting;
  if (!Array.isArray(raw)) {
    if (raw !== undefined && raw !== null) {
      log.warn(`Ignoring "${SETTING}": expected an array of strings, got ${JSON.stringify(raw)}`);
    }
    return undefined;
  }
  if (!raw.every((item): item is string => typeof item === "string")) {
    log.warn(`Ignoring "${SETTING}": expected an array of strings, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const command = raw.map((item) => item.trim()).filter((item) => item !== "");
  return command.length > 0 ? command : undefined;
}

async function pythonExtensionCommand(lookup: PythonLookup): Promise<Interpreter | undefined> {
  const { extensions, log, resource } = lookup;
  const extension = extensions.getExtension(PYTHON_EXTENSION_ID);
  if (!extension) {
    log.info(`The Python extension (${PYTHON_EXTENSION_ID}) is not installed`);
    return undefined;
  }
  // Another extension's API is outside our control: any failure means "no answer", never a crash.
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as PythonExtensionApi | undefined;
    const environments = api?.environments;
    if (typeof environments?.getActiveEnvironmentPath === "function" && typeof environments.resolveEnvironment === "function") {
      const active = environments.getActiveEnvironmentPath(resource);
      const resolved = active ? await environments.resolveEnvironment(active) : undefined;
      const executable = resolved?.executable?.uri?.fsPath;
      if (executable) {
        return {
          command: [executable],
          source: "python-extension",
          reason: `the Python extension's active environment${active?.path ? ` (${active.path})` : ""}`,
        };
      }
    }
    const settings = api?.settings;
    if (typeof settings?.getExecutionDetails === "function") {
      const execCommand = settings.getExecutionDetails(resource)?.execCommand;
      if (Array.isArray(execCommand) && execCommand.length > 0 && execCommand.every((item) => typeof item === "string" && item !== "")) {
        return { command: [...execCommand], source: "python-extension", reason: "the Python extension's selected interpreter" };
      }
    }
    log.info("The Python extension reports no active environment");
  } catch (error) {
    log.warn(`Could not ask the Python extension for its environment: ${errorMessage(error)}`);
  }
  return undefined;
}

/** Picks the interpreter: the setting, else the Python extension's environment, else `python3`. */
export async function chooseInterpreter(lookup: PythonLookup): Promise<Interpreter> {
  const fromSetting = settingCommand(lookup.setting, lookup.log);
  if (fromSetting) {
    const vars = { workspaceFolder: lookup.workspaceFolder, userHome: lookup.userHome };
    const command = fromSetting.map((item) => resolveVariables(item, vars));
    if (command.some((item) => item.includes("${workspaceFolder}"))) {
      lookup.log.warn(`"${SETTING}" uses \${workspaceFolder}, but no folder is open`);
    }
    return { command, source: "setting", reason: `the "${SETTING}" setting` };
  }
  const fromExtension = await pythonExtensionCommand(lookup);
  if (fromExtension) {
    return fromExtension;
  }
  return { command: ["python3"], source: "path", reason: "python3 on PATH (no setting, no Python extension environment)" };
}

/** `"<command>" (from <reason>)`: how messages name an interpreter. */
export function describeInterpreter(interpreter: Interpreter): string {
  return `"${formatCommand(interpreter.command)}" (from ${interpreter.reason})`;
}

/**
 * Runs the interpreter once to learn its version, implementation and platform. Whether the bundle
 * has libraries for that is bundle.ts's question; this only fails when there is no answer.
 */
export async function checkInterpreter(interpreter: Interpreter, run: RunCommand = execCommand): Promise<PythonCheck> {
  const [command = "python3", ...args] = interpreter.command;
  const shown = describeInterpreter(interpreter);
  let output: string;
  try {
    output = await run(command, [...args, "-c", PROBE_SCRIPT]);
  } catch (error) {
    return {
      ok: false,
      interpreter,
      message: `Cline Bridge cannot start: the Python interpreter ${shown} could not run: ${errorMessage(error)}. ${HOW_TO_FIX}`,
    };
  }
  const runtime = parseProbe(output);
  if ("error" in runtime) {
    return {
      ok: false,
      interpreter,
      message: `Cline Bridge cannot start: the Python interpreter ${shown} did not report its version (${runtime.error}). ${HOW_TO_FIX}`,
    };
  }
  return { ok: true, interpreter, runtime };
}

/** chooseInterpreter + checkInterpreter, logging the choice and the outcome. */
export async function findPython(lookup: PythonLookup): Promise<PythonCheck> {
  const interpreter = await chooseInterpreter(lookup);
  lookup.log.info(`Python interpreter: ${formatCommand(interpreter.command)} (from ${interpreter.reason})`);
  const check = await checkInterpreter(interpreter, lookup.run);
  if (check.ok) {
    const { runtime } = check;
    const build = runtime.freeThreaded ? ", free-threaded" : "";
    lookup.log.info(`Python: ${runtime.implementation} ${runtime.version} (${runtime.target}${build})`);
  } else {
    lookup.log.error(check.message);
  }
  return check;
}

/** The production RunCommand: `execFile` with a timeout, reasons trimmed to one line. */
export const execCommand: RunCommand = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout);
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        reject(new Error(`"${command}" was not found`));
      } else if (error.killed) {
        reject(new Error(`it did not answer within ${VERSION_TIMEOUT_MS / 1000} s`));
      } else {
        const lastLine = stderr.trim().split(/\r?\n/).pop();
        reject(new Error(lastLine || error.message));
      }
    });
  });
