from __future__ import annotations

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.base import Reply, TaskHost
from cline_bridge.wire.errors import NoHostError

NO_CLI_MESSAGE = (
    "No Cline host: this client did not offer the Cline VS Code extension "
    "(initializationOptions.clineApi is not true), and the Cline CLI ({program}) was not found. "
    "Install it (npm install -g cline) or point initializationOptions.acp.command or "
    "CLINE_BRIDGE_ACP_COMMAND at it; in VS Code, install Cline (saoudrizwan.claude-dev)."
)


class UnavailableHost(TaskHost):
    """The host of a client that cannot run tasks: every operation answers -32001, ``reason``."""

    name = "none"

    def __init__(self, reason: str = "No Cline host") -> None:
        self.reason = reason

    def start_new_task(self, task: TextAndImages) -> Reply:
        raise NoHostError(self.reason)

    def send_message(self, message: TextAndImages) -> Reply:
        raise NoHostError(self.reason)

    def press_primary_button(self, force: bool = False) -> Reply:
        raise NoHostError(self.reason)

    def press_secondary_button(self, force: bool = False) -> Reply:
        raise NoHostError(self.reason)
