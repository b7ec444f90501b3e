// Wire names and ids, mirrored from the sidecar's protocol module (docs/protocol.md is the contract).

export const DISPLAY_NAME = "Cline Bridge";
export const CLIENT_ID = "clineBridge";

/** Commands the sidecar serves through `workspace/executeCommand`. */
export const ServerCommands = {
  startNewTask: "clineBridge.startNewTask",
  sendMessage: "clineBridge.sendMessage",
  pressPrimaryButton: "clineBridge.pressPrimaryButton",
  pressSecondaryButton: "clineBridge.pressSecondaryButton",
  status: "clineBridge.status",
} as const;

/** Requests the sidecar sends to a client that said `clineApi: true`. */
export const ClientRequests = {
  startNewTask: "clineBridge/startNewTask",
  sendMessage: "clineBridge/sendMessage",
  pressPrimaryButton: "clineBridge/pressPrimaryButton",
  pressSecondaryButton: "clineBridge/pressSecondaryButton",
} as const;

/** Our command palette entries; they must match `contributes.commands` in package.json. */
export const PaletteCommands = {
  newTask: "clineBridge.newTask",
  message: "clineBridge.message",
  approve: "clineBridge.approve",
  reject: "clineBridge.reject",
  restart: "clineBridge.restart",
  showLog: "clineBridge.showLog",
} as const;

export const Settings = {
  section: "clineBridge",
  interpreter: "interpreter",
  includeSelection: "includeSelection",
} as const;

export const CLINE_EXTENSION_ID = "saoudrizwan.claude-dev";
/** First Cline release whose exports reach the task without an open sidebar (clineapi.md §2). */
export const MIN_CLINE_VERSION = "3.17.6";

export const PYTHON_EXTENSION_ID = "ms-python.python";
export const MIN_PYTHON_VERSION: readonly [number, number] = [3, 10];

/** The JSON-RPC error code the sidecar uses for "Cline unavailable"; it re-maps ours anyway. */
export const CLINE_UNAVAILABLE_CODE = -32002;

export const STATUS_BAR_ID = "clineBridge.status";
