"""A pytest-lsp client playing an editor without the Cline extension (Neovim, Helix, ...).

It records every ``clineBridge/taskEvent`` and every approval dialog
(``window/showMessageRequest``), and lets a test wait for the event it expects, with a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from tests.support.task_event_log import EVENT_TIMEOUT, Event, TaskEventLog, raw_message_type

DialogAnswer = Callable[[types.ShowMessageRequestParams], Any]


class _RawEventsProtocol(LanguageClientProtocol):
    def get_message_type(self, method: str) -> type[Any] | None:
        return raw_message_type(method) or super().get_message_type(method)


class AcpEditor(LanguageClient):
    """The editor; ``events`` holds the task events in arrival order."""

    def __init__(self) -> None:
        super().__init__(protocol_cls=_RawEventsProtocol, converter_factory=default_converter)
        register_lsp_features(self)
        self.log = TaskEventLog()
        self.log.listen(self)
        self.events: list[Event] = self.log.events
        self.dialogs: list[types.ShowMessageRequestParams] = []
        self.dialog_answer: DialogAnswer = lambda params: None
        """How the user answers a dialog: an action title, None (dismissed), or an awaitable."""
        self.dialogs_withdrawn = 0

        @self.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        async def on_dialog(
            ls: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            self.dialogs.append(params)
            self.log.changed()
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
        return await self.log.wait_for(kind, after=after, timeout=timeout, **fields)

    async def wait_for_dialog(
        self, timeout: float = EVENT_TIMEOUT
    ) -> types.ShowMessageRequestParams:
        return await self.log.until(
            lambda: self.dialogs[-1] if self.dialogs else None, timeout, "dialog"
        )

    def kinds(self, task_id: str | None = None) -> list[str]:
        """The kinds of the events so far (of one task, if given)."""
        return self.log.kinds(task_id)
