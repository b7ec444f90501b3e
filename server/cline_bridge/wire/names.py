"""Wire names and error codes of the cline-bridge protocol, in one place, importing nothing.

The sidecar, the script library (``client``) and the CLI read them here; the VS
Code client repeats them in ``vscode-client/src/constants.ts``; ``docs/protocol.md`` is the public
description. Every name of ours lives under ``clineBridge`` so that it can never clash with the
``cline.*`` command ids owned by the Cline extension.
"""

from __future__ import annotations

SERVER_NAME = "cline-bridge"

# workspace/executeCommand commands
CMD_START_NEW_TASK = "clineBridge.startNewTask"
CMD_SEND_MESSAGE = "clineBridge.sendMessage"
CMD_PRESS_PRIMARY_BUTTON = "clineBridge.pressPrimaryButton"
CMD_PRESS_SECONDARY_BUTTON = "clineBridge.pressSecondaryButton"
CMD_STATUS = "clineBridge.status"
CMD_CHAT = "clineBridge.chat"
CMD_LIST_MODELS = "clineBridge.listModels"

# server -> client requests, sent only to a client that said `clineApi: true`
REQ_START_NEW_TASK = "clineBridge/startNewTask"
REQ_SEND_MESSAGE = "clineBridge/sendMessage"
REQ_PRESS_PRIMARY_BUTTON = "clineBridge/pressPrimaryButton"
REQ_PRESS_SECONDARY_BUTTON = "clineBridge/pressSecondaryButton"

CUSTOM_METHOD_PREFIX = "clineBridge/"

# JSON-RPC error codes: the server-defined range -32099..-32000, and the standard ones we answer
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800  # LSP's RequestCancelled
NO_HOST = -32001
CLINE_UNAVAILABLE = -32002
NO_API_KEY = -32003
API_ERROR = -32004
NOT_AUTHORISED = -32005

# server -> client notifications
NOTIFY_TASK_EVENT = "clineBridge/taskEvent"

# The environment variable naming a discovery file: which bridge a script reaches. The VS Code
# extension sets it in its integrated terminals.
ENV_BRIDGE = "CLINE_BRIDGE"
