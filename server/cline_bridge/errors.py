"""The errors a command can answer with, each carrying its wire code (see ``protocol``)."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcServerError

from cline_bridge import protocol


class InvalidArguments(JsonRpcInvalidParams):
    """-32602: the command's arguments are wrong; the message names the argument and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class NoHostError(JsonRpcServerError):
    """-32001: there is nothing that can run a Cline task for this client."""

    def __init__(self, message: str) -> None:
        super().__init__(message, protocol.NO_HOST)  # type: ignore[no-untyped-call]


class ClineUnavailableError(JsonRpcServerError):
    """-32002: Cline is missing or inactive, it threw, or it did not answer in time."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message, protocol.CLINE_UNAVAILABLE, data)  # type: ignore[no-untyped-call]


# Errors that are answers, not faults of the sidecar: logged briefly, without a traceback.
EXPECTED_ERRORS: tuple[type[JsonRpcException], ...] = (
    InvalidArguments,
    NoHostError,
    ClineUnavailableError,
)
