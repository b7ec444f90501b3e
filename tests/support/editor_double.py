"""A pytest-lsp client that plays the cline-bridge VS Code extension.

It says ``clineApi: true`` at initialize and answers the sidecar's ``clineBridge/*`` requests the
way the extension does after calling Cline's ClineAPI: ``null`` when Cline took the call, an error
when it could not. Every request is recorded with its exact params, so tests assert on what would
have reached Cline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import attrs
from pygls.exceptions import FeatureRequestError, JsonRpcServerError
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from tests.support.task_event_log import TaskEventLog, raw_message_type

DOUBLE_CLINE_VERSION = "3.99.0"
"""The double plays a Cline whose task records the bridge cannot read (as Cline 3's): the sidecar
then forwards every operation as it comes, which is what the tests of the forwarding need. Tests
of what the sidecar makes of Cline's records write them (tests/fakes/cline_records.py)."""
DOUBLE_OPTIONS = {"clineApi": True, "cline": {"version": DOUBLE_CLINE_VERSION}}
"""The ``initializationOptions`` of an editor that lends the double."""


def dispatched(action: str) -> dict[str, Any]:
    """The sidecar's result for an operation forwarded to a Cline whose records it cannot read."""
    return {"host": "editor", "dispatched": True, "action": action}


STARTED, SENT, PRESSED = dispatched("started"), dispatched("sent"), dispatched("pressed")

CLINE_METHODS = (
    "clineBridge/startNewTask",
    "clineBridge/sendMessage",
    "clineBridge/pressPrimaryButton",
    "clineBridge/pressSecondaryButton",
)


@attrs.define
class RawRequest:
    """A request whose params stay the plain JSON they arrived as (not pygls's namedtuples)."""

    id: Any
    method: str
    jsonrpc: str
    params: Any = None


class RawParamsProtocol(LanguageClientProtocol):
    def get_message_type(self, method: str) -> type[Any] | None:
        if (raw := raw_message_type(method)) is not None:
            return raw
        if method.startswith("clineBridge/"):
            return RawRequest
        return super().get_message_type(method)


@dataclass
class ClineDouble:
    """What the extension's Cline does: record each call, then succeed, fail or never answer."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    failure: str | None = None
    """When set, every call is answered with an error carrying this message."""
    hang: bool = False
    """When set, calls are recorded but never answered (until the test ends)."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    acts: Callable[[str, Any], None] | None = None
    """What this Cline does with a call it took, before it answers: a test that plays Cline
    further writes its task records here (tests/fakes/cline_records.py)."""

    async def answer(self, method: str, params: Any) -> None:
        self.calls.append((method, params))
        if self.acts is not None:
            self.acts(method, params)
        if self.hang:
            await self.release.wait()
        if self.failure is not None:
            raise JsonRpcServerError(self.failure, -32000)


class EditorClient(LanguageClient):
    """A test client with the extension's handlers; ``cline`` is the Cline behind it."""

    def __init__(self) -> None:
        super().__init__(protocol_cls=RawParamsProtocol, converter_factory=default_converter)
        self.cline = ClineDouble()
        register_lsp_features(self)
        self.log = TaskEventLog()
        """The task events the sidecar sent this editor."""
        self.log.listen(self)
        for method in CLINE_METHODS:

            async def handler(ls: LanguageClient, params: Any, method: str = method) -> None:
                await self.cline.answer(method, params)

            self.feature(method)(handler)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pytest-lsp fails the test on any handler error; ClineDouble's errors are deliberate.
        if source is not FeatureRequestError:
            super().report_server_error(error, source)
