"""Wire names and error codes of the cline-bridge protocol, in one place.

The VS Code client repeats these in ``vscode-client/src/constants.ts``; ``docs/protocol.md`` is
the public description. Every name of ours lives under ``clineBridge`` so that it can never clash
with the ``cline.*`` command ids owned by the Cline extension.
"""

from __future__ import annotations

from typing import Any

import attrs
from pygls.protocol import LanguageServerProtocol

SERVER_NAME = "cline-bridge"

# workspace/executeCommand commands
CMD_START_NEW_TASK = "clineBridge.startNewTask"
CMD_SEND_MESSAGE = "clineBridge.sendMessage"
CMD_PRESS_PRIMARY_BUTTON = "clineBridge.pressPrimaryButton"
CMD_PRESS_SECONDARY_BUTTON = "clineBridge.pressSecondaryButton"
CMD_STATUS = "clineBridge.status"

# server -> client requests, sent only to a client that said `clineApi: true`
REQ_START_NEW_TASK = "clineBridge/startNewTask"
REQ_SEND_MESSAGE = "clineBridge/sendMessage"
REQ_PRESS_PRIMARY_BUTTON = "clineBridge/pressPrimaryButton"
REQ_PRESS_SECONDARY_BUTTON = "clineBridge/pressSecondaryButton"

CUSTOM_METHOD_PREFIX = "clineBridge/"

# JSON-RPC error codes (server-defined range -32099..-32000, plus the standard -32602)
INVALID_PARAMS = -32602
NO_HOST = -32001
CLINE_UNAVAILABLE = -32002
NO_API_KEY = -32003
API_ERROR = -32004
NOT_AUTHORISED = -32005


@attrs.define
class RawResponse:
    """A JSON-RPC response whose ``result`` is kept exactly as it arrived.

    pygls turns the payload of a method it has no type for into a namedtuple, which would later be
    serialised as a JSON array and lose keys that are not identifiers.
    """

    id: Any
    jsonrpc: str
    result: Any = None


class BridgeProtocol(LanguageServerProtocol):
    """The LSP protocol with our custom methods' payloads left as plain JSON values."""

    # The parent wraps this method in lru_cache, which mypy sees as a different signature.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith(CUSTOM_METHOD_PREFIX):
            return RawResponse
        return super().get_result_type(method)
