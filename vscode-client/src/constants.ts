// Wire names and ids, mirrored from server/cline_bridge/wire/names.py (docs/protocol.md is the contract).

export const DISPLAY_NAME = "Cline Bridge";
export const CLIENT_ID = "clineBridge";

/** Commands the sidecar serves through `workspace/executeCommand`. */
export const ServerCommands = {
  startNewTask: "clineBridge.startNewTask",
  sendMessage: "clineBridge.sendMessage",
  pressPrimaryButton: "clineBridge.pressPrimaryButton",
  pressSecondaryButton: "clineBridge.pressSecondaryButton",
  status: "clineBridge.status",
  chat: "clineBridge.chat",
  listModels: "clineBridge.listModels",
} as const;

/** Requests the sidecar sends to a client that said `clineApi: true`. */
export const ClientRequests = {
  startNewTask: "clineBridge/startNewTask",
  sendMessage: "clineBridge/sendMessage",
  pressPrimaryButton: "clineBridge/pressPrimaryButton",
  pressSecondaryButton: "clineBridge/pressSecondaryButton",
} as const;

/** Notifications the sidecar sends its editor. */
export const ClientNotifications = {
  taskEvent: "clineBridge/taskEvent",
} as const;

/** Our command palette entries; they must match `contributes.commands` in package.json. */
export const PaletteCommands = {
  newTask: "clineBridge.newTask",
  message: "clineBridge.message",
  approve: "clineBridge.approve",
  reject: "clineBridge.reject",
  restart: "clineBridge.restart",
  showLog: "clineBridge.showLog",
  ask: "clineBridge.ask",
  setApiKey: "clineBridge.setApiKey",
  clearApiKey: "clineBridge.clearApiKey",
} as const;

export const Settings = {
  section: "clineBridge",
  interpreter: "interpreter",
  includeSelection: "includeSelection",
  apiModel: "api.model",
  apiBaseUrl: "api.baseUrl",
} as const;

/** Settings whose change restarts the sidecar: they shape its launch or its initializationOptions. */
export const RESTART_SETTINGS: readonly string[] = [Settings.interpreter, Settings.apiModel, Settings.apiBaseUrl];

/** The SecretStorage key of the Cline API key; the key itself never leaves SecretStorage but for the sidecar's env. */
export const API_KEY_SECRET = "clineBridge.apiKey";
/** The sidecar reads the key from this environment variable (never from initializationOptions, which traces print). */
export const API_KEY_ENV = "CLINE_API_KEY";

/** Scripts in the integrated terminals find this window's sidecar through this variable: its discovery file. */
export const TERMINAL_ENV_VAR = "CLINE_BRIDGE";
/** Shown in the terminal's environment hover. */
export const TERMINAL_ENV_DESCRIPTION = "Lets cline-bridge commands in this terminal reach this window's Cline";

/** The output channel the answers of **Cline Bridge: Ask…** go to. */
export const ANSWERS_CHANNEL = "Cline Bridge: Answers";

export const CLINE_EXTENSION_ID = "saoudrizwan.claude-dev";
/** First Cline release whose exports reach the task without an open sidebar (clineapi.md §2). */
export const MIN_CLINE_VERSION = "3.17.6";

export const PYTHON_EXTENSION_ID = "ms-python.python";

/** The JSON-RPC error code the sidecar uses for "Cline unavailable"; it re-maps ours anyway. */
export const CLINE_UNAVAILABLE_CODE = -32002;
/** The sidecar's "no API key configured". */
export const NO_API_KEY_CODE = -32003;
/** The sidecar's "REST API error"; `data` is `{status, code, requestId, retryable}`. */
export const API_ERROR_CODE = -32004;
/** LSP's RequestCancelled: the answer to a request cancelled with `$/cancelRequest`. */
export const REQUEST_CANCELLED_CODE = -32800;

export const STATUS_BAR_ID = "clineBridge.status";
