"""The exceptions a script meets when it drives a running sidecar (see ``client``).

Everything the client raises is a ``BridgeError``, so one ``except BridgeError`` catches it all.
An error the bridge answered with carries its JSON-RPC ``code`` and maps to the class of that
code; an error raised on this side (no bridge found, the connection failed) has ``code`` None.
This module imports nothing heavy: the CLI loads it on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BridgeError(Exception):
    """Base of every client error.

    ``code`` is the JSON-RPC error code the bridge answered with (None for an error raised on this
    side), ``message`` one human line, ``data`` the error's ``data`` member as it arrived.
    """

    def __init__(self, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.data!r})"


class BridgeNotFoundError(BridgeError):
    """No bridge could be chosen: none is running, the one named is gone, or several fit.

    The message says which, and what to do about it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class RuntimeDirError(BridgeError):
    """The runtime folder that holds discovery files is unsafe to use (someone else's, or
    writable by others), or cannot be created. The message names the folder and the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class BridgeConnectionError(BridgeError):
    """The bridge could not be reached, or the connection broke or closed mid-request."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class BridgeTimeoutError(BridgeConnectionError):
    """The bridge did not answer in time; the request was cancelled on the bridge."""


class InvalidArgumentsError(BridgeError):
    """-32602: the command's arguments are wrong; the message says which and why."""


class NoHostError(BridgeError):
    """-32001: the bridge has nothing that can run a Cline task (no editor, no Cline CLI)."""


class ClineUnavailableError(BridgeError):
    """-32002: Cline is missing or inactive, it threw or timed out, or its CLI failed."""


class NoApiKeyError(BridgeError):
    """-32003: a REST command needs a Cline API key and the bridge has none."""


class ApiError(BridgeError):
    """-32004: the Cline REST API failed.

    From the error's data: ``status`` (HTTP status or None), ``api_code`` (the API's own error
    code, e.g. ``"insufficient_credits"``, or None), ``request_id`` (for Cline support) and
    ``retryable`` (whether trying again later can help). ``code`` stays the JSON-RPC code.
    """

    def __init__(self, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        fields: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        status = fields.get("status")
        self.status: int | None = status if isinstance(status, int) else None
        api_code = fields.get("code")
        self.api_code: str | None = None if api_code is None else str(api_code)
        request_id = fields.get("requestId")
        self.request_id: str | None = None if request_id is None else str(request_id)
        self.retryable: bool = fields.get("retryable") is True


class NotAuthorisedError(BridgeError):
    """-32005: the bridge refused the token (the discovery file is stale or not its own)."""


class CancelledError(BridgeError):
    """-32800: the request was cancelled. Not ``asyncio.CancelledError``."""


ERROR_CLASSES: Mapping[int, type[BridgeError]] = {
    -32602: InvalidArgumentsError,
    -32001: NoHostError,
    -32002: ClineUnavailableError,
    -32003: NoApiKeyError,
    -32004: ApiError,
    -32005: NotAuthorisedError,
    -32800: CancelledError,
}
"""The class of each code the bridge answers with; other codes give a plain ``BridgeError``."""


def error_from_response(error: Any) -> BridgeError:
    """The exception for a JSON-RPC response's ``error`` member, whatever shape it has."""
    if not isinstance(error, Mapping):
        return BridgeError(None, f"malformed error from the bridge: {error!r}")
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"the bridge answered error {code}"
    if not isinstance(code, int) or isinstance(code, bool):
        return BridgeError(None, message, error.get("data"))
    return ERROR_CLASSES.get(code, BridgeError)(code, message, error.get("data"))
