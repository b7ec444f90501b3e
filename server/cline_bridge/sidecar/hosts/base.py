from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Any

from cline_bridge.sidecar.arguments import TextAndImages

Reply = Awaitable[dict[str, Any]]


class TaskHost(ABC):
    """Runs Cline's four operations.

    Each operation is submitted at once, when the method is called, and returns an awaitable of the
    command's result object (whose ``host`` key names the host). Splitting the two lets the caller
    keep operations in the order they arrived while their replies overlap. Failures raise a
    ``wire.errors.BridgeError`` of the error's code, at submission or from the awaitable.
    """

    name: str
    """The wire name of the host: "editor", "acp", or "none"."""

    @abstractmethod
    def start_new_task(self, task: TextAndImages) -> Reply: ...

    @abstractmethod
    def send_message(self, message: TextAndImages) -> Reply: ...

    @abstractmethod
    def press_primary_button(self, force: bool = False) -> Reply:
        """Approve what waits for an answer; with nothing waiting, press nothing and answer
        ``action: "none"``, unless ``force``."""

    @abstractmethod
    def press_secondary_button(self, force: bool = False) -> Reply:
        """Reject what waits for an answer (or stop what runs, where the host can); with nothing
        to answer, press nothing and answer ``action: "none"``, unless ``force``."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """The client is initialized: begin whatever the host does on its own."""

    def describe(self) -> dict[str, Any] | None:
        """What ``clineBridge.status`` shows of the host beyond its name (None: nothing)."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook, most hosts hold nothing
        """Release what the host holds; called once at shutdown."""
