"""The errors a command can answer with, each carrying its wire code (see ``protocol``)."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcServerError

from cline_bridge.wire import names


class InvalidArguments(JsonRpcInvalidParams):
    """-32602: the command's arguments are wrong; the message names the argument and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class NoHostError(JsonRpcServerError):
    """-32001: there is nothing that can run a Cline task for this client."""

    def __init__(self, message: str) -> None:
        super().__init__(message, names.NO_HOST)  # type: ignore[no-untyped-call]


class ClineUnavailableError(JsonRpcServerError):
    """-32002: Cline is missing or inactive, it threw, or it did not answer in time."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message, names.CLINE_UNAVAILABLE, data)  # type: ignore[no-untyped-call]


class NoApiKeyError(JsonRpcServerError):
    """-32003: a REST command needs a Cline API key and none is configured."""

    def __init__(self, message: str) -> None:
        super().__init__(message, names.NO_API_KEY)  # type: ignore[no-untyped-call]


class RestApiError(JsonRpcServerError):
    """-32004: the Cline REST API failed; ``data`` is ``{status, code, requestId, retryable}``."""

    def __init__(self, message: str, data: dict[str, Any]) -> None:
        super().__init__(message, names.API_ERROR, data)  # type: ignore[no-untyped-call]


class RequestCancelled(JsonRpcException):
    """-32800: the client cancelled the request."""

    CODE = -32800


# Errors that are answers, not faults of the sidecar: logged briefly, without a traceback.
EXPECTED_ERRORS: tuple[type[JsonRpcException], ...] = (
    JsonRpcInvalidParams,  # ours, and pygls's own for an unknown command
    NoHostError,
    ClineUnavailableError,
    NoApiKeyError,
    RestApiError,
    RequestCancelled,
)
