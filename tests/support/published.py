"""A recorder standing in for the sidecar's publish callback, for tests of task events."""

from __future__ import annotations

import asyncio
from typing import Any

Event = dict[str, Any]


class Published:
    """The publish callback: records every event; ``wait`` for the next ones, with a timeout."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    async def wait(self, count: int, timeout: float = 2.0) -> list[Event]:
        """The events once there are ``count`` (text is sent by a timer, so this polls)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{self.events} after {timeout} s"
            await asyncio.sleep(0.005)
        return self.events

    def kinds(self) -> list[tuple[str, Any]]:
        return [(event["kind"], event.get("text")) for event in self.events]
