"""A pytest-lsp client playing an editor without the Cline extension (Neovim, Helix, ...).

It records every ``clineBridge/taskEvent`` and every approval dialog
(``window/showMessageRequest``), and lets a test wait for the event it expects, with a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import attrs
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from cline_bridge.wire.names import NOTIFY_TASK_EVENT

EVENT_TIMEOUT = 30.0
"""Seconds a test waits for one event: a cold agent start is 1-3 s, a turn well under 1 s."""

Event = dict[str, Any]
DialogAnswer = Callable[[types.ShowMessageRequestParams], Any]


@attrs.define
class RawNotification:
    """A notification whose params stay the plain JSON they arrived as."""

    method: str
    jsonrpc: str
    params: Any = None


class _RawEventsProtocol(LanguageClientProtocol):
    def get_message_type(self, method: str) -> type[Any] | None:
        if method == NOTIFY_TASK_EVENT:
            return RawNotification
        return super().get_message_type(method)


class AcpEditor(LanguageClient):
    """The editor; ``events`` holds the task events in arrival order."""

    def __init__(self) -> None:
        super().__init__(protocol_cls=_RawEventsProtocol, converter_factory=default_converter)
        register_lsp_features(self)
        self.events: list[Event] = []
        self.dialogs: list[types.ShowMessageRequestParams] = []
        self.dialog_answer: DialogAnswer = lambda params: None
        """How the user answers a dialog: an action title, None (dismissed), or an awaitable."""
        self.dialogs_withdrawn = 0
        self._arrived = asyncio.Event()

        @self.feature(NOTIFY_TASK_EVENT)
        def on_task_event(ls: LanguageClient, params: Any) -> None:
            self.events.append(params)
            self._arrived.set()

        @self.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        async def on_dialog(
            ls: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            self.dialogs.append(params)
            self._arrived.set()
            try:
                answer = self.dialog_answer(params)
                if asyncio.iscoroutine(answer) or isinstance(answer, asyncio.Future):
                    answer = await answer
            except asyncio.CancelledError:
                self.dialogs_withdrawn += 1  # the sidecar sent $/cancelRequest
                raise
            return types.MessageActionItem(title=answer) if answer else None

    async def wait_for_event(
        self, kind: str, *, after: int = 0, timeout: float = EVENT_TIMEOUT, **fields: Any
    ) -> Event:
        """The first event of ``kind`` (with these field values) from index ``after`` on."""

        def found() -> Event | None:
            for event in self.events[after:]:
                if event["kind"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        async def arrival() -> Event:
            while (event := found()) is None:
                self._arrived.clear()
                await self._arrived.wait()
            return event

        try:
            return await asyncio.wait_for(arrival(), timeout)
        except asyncio.TimeoutError:
            seen = [(event["kind"], event.get("state")) for event in self.events]
            raise AssertionError(
                f"no {kind} event {fields} within {timeout} s; saw {seen}"
            ) from None

    async def wait_for_dialog(
        self, timeout: float = EVENT_TIMEOUT
    ) -> types.ShowMessageRequestParams:
        async def arrival() -> types.ShowMessageRequestParams:
            while not self.dialogs:
                self._arrived.clear()
                await self._arrived.wait()
            return self.dialogs[-1]

        return await asyncio.wait_for(arrival(), timeout)

    def kinds(self, task_id: str | None = None) -> list[str]:
        """The kinds of the events so far (of one task, if given)."""
        return [e["kind"] for e in self.events if task_id is None or e["taskId"] == task_id]
