"""Task events as a pytest-lsp editor receives them, and waiting for the one a test expects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from pytest_lsp import LanguageClient

from cline_bridge.wire.names import NOTIFY_TASK_EVENT

EVENT_TIMEOUT = 30.0
"""Seconds a test waits for one event: a cold agent start is 1-3 s, a turn well under 1 s."""

Event = dict[str, Any]
T = TypeVar("T")


@attrs.define
class RawNotification:
    """A notification whose params stay the plain JSON they arrived as."""

    method: str
    jsonrpc: str
    params: Any = None


def raw_message_type(method: str) -> type[Any] | None:
    """For a client protocol's ``get_message_type``: task events stay plain JSON (pygls would
    make them namedtuples)."""
    return RawNotification if method == NOTIFY_TASK_EVENT else None


class TaskEventLog:
    """The task events of one client, in arrival order (``listen`` to start recording)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def listen(self, client: LanguageClient) -> None:
        @client.feature(NOTIFY_TASK_EVENT)
        def on_task_event(ls: LanguageClient, params: Any) -> None:
            self.events.append(params)
            self.changed()

    def changed(self) -> None:
        """Something a waiter may wait for arrived (an event, or anything else it polls)."""
        self._changed.set()

    async def until(self, found: Callable[[], T | None], timeout: float, what: str) -> T:
        """``found()``'s first answer that is not None, re-asked at each change."""

        async def arrival() -> T:
            while (result := found()) is None:
                self._changed.clear()
                await self._changed.wait()
            return result

        try:
            return await asyncio.wait_for(arrival(), timeout)
        except asyncio.TimeoutError:
            seen = [(event["kind"], event.get("state")) for event in self.events]
            raise AssertionError(f"no {what} within {timeout} s; saw {seen}") from None

    async def wait_for(
        self, kind: str, *, after: int = 0, timeout: float = EVENT_TIMEOUT, **fields: Any
    ) -> Event:
        """The first event of ``kind`` (with these field values) from index ``after`` on."""

        def found() -> Event | None:
            for event in self.events[after:]:
                if event["kind"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        return await self.until(found, timeout, f"{kind} event {fields}")

    def kinds(self, task_id: str | None = None) -> list[str]:
        """The kinds of the events so far (of one task, if given)."""
        return [e["kind"] for e in self.events if task_id is None or e["taskId"] == task_id]
