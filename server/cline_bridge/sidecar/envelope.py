"""The JSON-RPC envelope of a message from the editor: whether it is a request, a notification or
a response, and what is wrong with it before pygls sees it.

pygls turns a message with an object as its id, a string body or a batch into an exception in its
converter, which it logs with a traceback and answers with nothing: the editor waits for good.
Here each such message gets the answer JSON-RPC 2.0 prescribes (section 5.1): -32700 for a body
that is not JSON, -32600 for anything that is not a valid request, with the request's id when it
has a valid one and ``null`` otherwise. A response or a notification is never answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
"""LSP's ServerNotInitialized: a request before ``initialize`` (the sidecar's task commands use the
same code for "Cline unavailable"; the message tells them apart)."""

_NAME_SHOWN = 60
"""Characters of a method name quoted in a message: the name is the editor's, and may be junk."""


@dataclass(frozen=True)
class Refusal:
    """Why a message is not handled, and the error it is answered with (when ``answer``)."""

    code: int
    message: str
    reply_to: int | str | None = None
    """The id to answer with: the message's own when it is valid, else None (``null``)."""
    answer: bool = True
    """False for what must not be answered: a response, a notification."""


def is_valid_id(value: Any) -> bool:
    """LSP ids are integers or strings (JSON-RPC allows null, which LSP does not send)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def shown(method: Any) -> str:
    """``method`` quoted for a message or a log line, cut short."""
    text = method if isinstance(method, str) else repr(method)
    return repr(text[:_NAME_SHOWN] + ("..." if len(text) > _NAME_SHOWN else ""))


def check(message: Any) -> Refusal | None:
    """What is wrong with the envelope of ``message`` (parsed JSON), or None if nothing is."""
    if not isinstance(message, dict):
        kind = "an array (LSP has no batches)" if isinstance(message, list) else "not an object"
        return Refusal(INVALID_REQUEST, f"Invalid Request: the message is {kind}")
    has_id = "id" in message
    valid_id = has_id and is_valid_id(message["id"])
    reply_to = message["id"] if valid_id else None
    method = message.get("method")
    is_response = "method" not in message and ("result" in message or "error" in message)
    if has_id and not valid_id:
        return Refusal(
            INVALID_REQUEST,
            "Invalid Request: id must be an integer or a string",
            answer=not is_response,
        )
    if message.get("jsonrpc") != "2.0":
        return Refusal(
            INVALID_REQUEST,
            'Invalid Request: "jsonrpc" must be "2.0"',
            reply_to,
            answer=valid_id and not is_response,
        )
    if "method" in message and not isinstance(method, str):
        return Refusal(INVALID_REQUEST, "Invalid Request: method must be a string", reply_to)
    if "method" not in message and not is_response:
        return Refusal(
            INVALID_REQUEST,
            "Invalid Request: a message needs a method, or an id and a result or an error",
            reply_to,
        )
    params = message.get("params")
    if method is not None and params is not None and not isinstance(params, (dict, list)):
        return Refusal(
            INVALID_PARAMS,
            f"Invalid params for {shown(method)}: params must be an object or an array",
            reply_to,
            answer=valid_id,
        )
    return None
