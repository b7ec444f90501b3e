"""A pytest-lsp client that plays the cline-bridge VS Code extension.

It says ``clineApi: true`` at initialize and answers the sidecar's ``clineBridge/*`` requests the
way the extension does after calling Cline's ClineAPI: ``null`` when Cline took the call, an error
when it could not. Every request is recorded with its exact params, so tests assert on what would
have reached Cline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import attrs
from pygls.exceptions import FeatureRequestError, JsonRpcServerError
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

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

    async def answer(self, method: str, params: Any) -> None:
        self.calls.append((method, params))
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
        for method in CLINE_METHODS:

            async def handler(ls: LanguageClient, params: Any, method: str = method) -> None:
                await self.cline.answer(method, params)

            self.feature(method)(handler)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pytest-lsp fails the test on any handler error; ClineDouble's errors are deliberate.
        if source is not FeatureRequestError:
            super().report_server_error(error, source)
