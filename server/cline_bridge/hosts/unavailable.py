from __future__ import annotations

from typing import NoReturn

from cline_bridge.arguments import TextAndImages
from cline_bridge.errors import NoHostError
from cline_bridge.hosts.base import Reply, TaskHost

NO_HOST_MESSAGE = (
    "No Cline host: this client did not offer the Cline VS Code extension "
    "(initializationOptions.clineApi is not true), and this version of cline-bridge cannot run "
    "tasks through the Cline CLI yet. In VS Code, install the Cline Bridge extension together "
    "with Cline (saoudrizwan.claude-dev)."
)


class UnavailableHost(TaskHost):
    """The host of a client that cannot run tasks: every operation answers -32001."""

    name = "none"

    def start_new_task(self, task: TextAndImages) -> Reply:
        _refuse()

    def send_message(self, message: TextAndImages) -> Reply:
        _refuse()

    def press_primary_button(self) -> Reply:
        _refuse()

    def press_secondary_button(self) -> Reply:
        _refuse()


def _refuse() -> NoReturn:
    raise NoHostError(NO_HOST_MESSAGE)
