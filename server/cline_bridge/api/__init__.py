"""The Cline REST API client (httpx + pydantic): ``ClineClient`` and its results.

Events of a streamed chat are in ``cline_bridge.api.events``, errors in ``cline_bridge.api.errors``.
The names below load on first use, so that the sidecar can read ``api.constants`` at start-up
without importing httpx and pydantic.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cline_bridge.api.cline_client import ClineClient
    from cline_bridge.api.models import ChatResult, Model, ToolCall, Usage
    from cline_bridge.api.stream import ChatStream

__all__ = ["ChatResult", "ChatStream", "ClineClient", "Model", "ToolCall", "Usage"]

_HOMES = {
    "ClineClient": "cline_bridge.api.cline_client",
    "ChatStream": "cline_bridge.api.stream",
    "ChatResult": "cline_bridge.api.models",
    "Model": "cline_bridge.api.models",
    "ToolCall": "cline_bridge.api.models",
    "Usage": "cline_bridge.api.models",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
