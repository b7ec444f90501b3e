"""The errors of the cline-bridge protocol: one class per error code, on both sides of the wire.

The sidecar raises them (``raise ClineUnavailableError("Cline is not installed")``) and answers
the request with the class's ``code`` (``to_response()``); a script that reads that answer gets
the same class back (``error_from_response``). So ``except ClineUnavailableError`` means the
same thing in a command handler and in a script, and each code has exactly one class.

Errors raised on the calling side only (no bridge found, the connection failed) have ``code``
None. Everything here is a ``BridgeError``, so one ``except BridgeError`` catches it all. This
module imports nothing heavy: every one-shot CLI command loads it.
"""

from __future__ import annotations

from cline_bridge.redaction import redact, redact_json
from cline_bridge.wire import names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class BridgeError(Exception):
    """Base of every error of the protocol and of the script library.

    ``message`` is one human line, ``data`` the error's ``data`` member (None: none), ``code``
    the JSON-RPC error code the error is answered with (None for an error of the calling side).
    A subclass stands for one code; ``code=`` gives a plain ``BridgeError`` any other one.
    """

    code: int | None = None

    def __init__(self, message: str, data: Any = None, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.data!r}, code={self.code!r})"

    def to_response(self) -> dict[str, Any]:
        """The ``error`` member of a JSON-RPC response (``data`` left out when there is none),
        with every known secret blanked: a message may quote what the caller sent, and a key
        pasted into the wrong argument must not come back in an answer that scripts print."""
        error: dict[str, Any] = {"code": self.code, "message": redact(self.message)}
        if self.data is not None:
            error["data"] = redact_json(self.data)
        return error


# -- answered by the sidecar, one class per code (docs/protocol.md, "Errors") -------------------


class InvalidArgumentsError(BridgeError):
    """-32602: the command's arguments are wrong; the message says which and why."""

    code = names.INVALID_PARAMS


class NoHostError(BridgeError):
    """-32001: the bridge has nothing that can run a Cline task (no editor, no Cline CLI)."""

    code = names.NO_HOST


class ClineUnavailableError(BridgeError):
    """-32002: Cline is missing or inactive, it threw or timed out, or its CLI failed."""

    code = names.CLINE_UNAVAILABLE


class NoApiKeyError(BridgeError):
    """-32003: a REST command needs a Cline API key and the bridge has none."""

    code = names.NO_API_KEY


class ApiError(BridgeError):
    """-32004: the Cline REST API failed; ``data`` is ``{status, code, requestId, retryable}``.

    From the data: ``status`` (HTTP status or None), ``api_code`` (the API's own error code,
    e.g. ``"insufficient_credits"``, or None), ``request_id`` (for Cline support) and
    ``retryable`` (whether trying again later can help). ``code`` stays the JSON-RPC code.
    """

    code = names.API_ERROR

    def __init__(self, message: str, data: Any = None, *, code: int | None = None) -> None:
        super().__init__(message, data, code=code)
        fields: Mapping[str, Any] = data if isinstance(data, dict) else {}
        status = fields.get("status")
        self.status: int | None = status if isinstance(status, int) else None
        api_code = fields.get("code")
        self.api_code: str | None = None if api_code is None else str(api_code)
        request_id = fields.get("requestId")
        self.request_id: str | None = None if request_id is None else str(request_id)
        self.retryable: bool = fields.get("retryable") is True


class NotAuthorisedError(BridgeError):
    """-32005: the bridge refused the token (the discovery file is stale or not its own)."""

    code = names.NOT_AUTHORISED


class RequestCancelledError(BridgeError):
    """-32800: the request was cancelled (by ``$/cancelRequest`` or a progress cancel)."""

    code = names.REQUEST_CANCELLED


class InternalError(BridgeError):
    """-32603: the bridge failed in a way it did not expect (its log has the details)."""

    code = names.INTERNAL_ERROR


ERROR_CLASSES: Mapping[int, type[BridgeError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentsError,
        NoHostError,
        ClineUnavailableError,
        NoApiKeyError,
        ApiError,
        NotAuthorisedError,
        RequestCancelledError,
        InternalError,
    )
    if cls.code is not None
}
"""The class of each code the bridge answers with; other codes give a plain ``BridgeError``."""


def error_from_response(error: Any) -> BridgeError:
    """The exception for a JSON-RPC response's ``error`` member, whatever shape it has."""
    if not isinstance(error, dict):
        return BridgeError(f"malformed error from the bridge: {error!r}")
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"the bridge answered error {code}"
    if not isinstance(code, int) or isinstance(code, bool):
        return BridgeError(message, error.get("data"))
    return ERROR_CLASSES.get(code, BridgeError)(message, error.get("data"), code=code)


# -- raised on the calling side (code None) ------------------------------------------------------


class BridgeNotFoundError(BridgeError):
    """No bridge could be chosen: none is running, the one named is gone, or several fit.

    The message says which, and what to do about it.
    """


class RuntimeDirError(BridgeError):
    """The runtime folder that holds discovery files is unsafe to use (someone else's, or
    writable by others), or cannot be created. The message names the folder and the fix."""


class BridgeConnectionError(BridgeError):
    """The bridge could not be reached, or the connection broke or closed mid-request."""


class BridgeTimeoutError(BridgeConnectionError):
    """The bridge did not answer in time; the request was cancelled on the bridge."""
