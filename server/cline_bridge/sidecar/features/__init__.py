"""What the sidecar serves: the task commands, the REST chat commands and the code actions.

Each feature module has a ``register(sidecar)`` that adds its commands (and LSP features) to the
server. It sees the server through ``Sidecar``, the small face below, and never imports the
server module, which imports the features: no import runs in a circle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from lsprotocol import types
    from pygls.workspace import Workspace

    from cline_bridge.api.cline_client import ClineClient
    from cline_bridge.sidecar.commands import CommandRegistry
    from cline_bridge.sidecar.hosts.base import TaskHost
    from cline_bridge.sidecar.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class Sidecar(Protocol):
    """What a feature needs of the server (``server.BridgeServer`` is one)."""

    @property
    def commands(self) -> CommandRegistry:
        """Where the feature adds its ``workspace/executeCommand`` commands."""

    @property
    def host(self) -> TaskHost:
        """What runs Cline's operations; chosen at ``initialize``, so read it at each call."""

    @property
    def settings(self) -> Settings:
        """The settings from ``initialize`` (defaults before it)."""

    @property
    def workspace(self) -> Workspace:
        """The editor's workspace: its folders and open documents."""

    @property
    def client_capabilities(self) -> types.ClientCapabilities:
        """What the editor said it can do."""

    def rest_client(self) -> ClineClient:
        """The REST client for the configured key (``NoApiKeyError`` without one)."""

    def feature(self, feature_name: str, options: Any | None = None) -> Callable[[F], F]:
        """pygls's decorator that registers an LSP method handler."""
