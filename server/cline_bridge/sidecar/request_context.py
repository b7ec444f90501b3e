"""What a command knows about the request it serves, whichever connection the request came on.

A command runs for the editor's LSP connection or for a script's control connection. It reads
its request's ``workDoneToken``, learns of a cancel, and sends progress through the
``RequestContext`` of the current request, which the connection sets before the command runs
(the command's task inherits it, being a ``ContextVar``).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from lsprotocol import types


class ProgressSink(Protocol):
    """Where ``$/progress`` for a request goes (pygls's ``Progress`` has this shape)."""

    def begin(self, token: types.ProgressToken, value: types.WorkDoneProgressBegin) -> None: ...

    def report(self, token: types.ProgressToken, value: types.WorkDoneProgressReport) -> None: ...

    def end(self, token: types.ProgressToken, value: types.WorkDoneProgressEnd) -> None: ...


class _NoProgress:
    def begin(self, token: types.ProgressToken, value: types.WorkDoneProgressBegin) -> None:
        pass

    def report(self, token: types.ProgressToken, value: types.WorkDoneProgressReport) -> None:
        pass

    def end(self, token: types.ProgressToken, value: types.WorkDoneProgressEnd) -> None:
        pass


@dataclass
class RequestContext:
    work_done_token: int | str | None = None
    """The request's ``workDoneToken``: progress for it goes to this token."""
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the client cancels the request (``$/cancelRequest`` or a progress cancel)."""
    progress: ProgressSink = field(default_factory=_NoProgress)
    """Sends progress on the connection the request came on."""


CURRENT_REQUEST: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def current_request() -> RequestContext:
    """The context of the request being handled; a detached one outside any request."""
    context = CURRENT_REQUEST.get()
    if context is None:
        context = RequestContext()
        CURRENT_REQUEST.set(context)
    return context


class CancelRegistry:
    """The cancel events of a connection's requests in flight, by request id and progress token."""

    def __init__(self) -> None:
        self._by_id: dict[Any, asyncio.Event] = {}
        self._by_token: dict[Any, asyncio.Event] = {}

    def register(self, request_id: Any, context: RequestContext) -> None:
        self._by_id[request_id] = context.cancelled
        if context.work_done_token is not None:
            self._by_token[context.work_done_token] = context.cancelled

    def release(self, request_id: Any, context: RequestContext) -> None:
        self._by_id.pop(request_id, None)
        if context.work_done_token is not None:
            self._by_token.pop(context.work_done_token, None)

    def cancel_request(self, request_id: Any) -> bool:
        if (event := self._by_id.get(request_id)) is None:
            return False
        event.set()
        return True

    def cancel_progress(self, token: Any) -> bool:
        if (event := self._by_token.get(token)) is None:
            return False
        event.set()
        return True
