"""``clineBridge/taskEvent``: the events of both hosts, numbered, their text coalesced.

Each host says what happens to its tasks (the ACP host from the agent's ``session/update``s, the
editor host from the records Cline keeps of its tasks); ``EventStream`` turns that into numbered
events with the task's state and hands each to the sidecar, which sends it to the editor and to
subscribed scripts.

Cline streams its answer a few characters at a time. Passed on one by one, each chunk would be a
notification to the editor and to every subscribed script. Instead the first text goes out at
once (no added latency before the user sees the agent answer), and what follows within
``TEXT_INTERVAL`` is held and goes out as one ``message`` (or ``thought``) event at the end of
that interval, or before any other event, so the order the agent produced things in is kept.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)

TEXT_INTERVAL = 0.05
"""Seconds after sending agent text during which more text is held; it then goes in one event."""

Publish = Callable[[dict[str, Any]], None]


class Subject(Protocol):
    """A task as the events name it: its id and its state now."""

    @property
    def task_id(self) -> str: ...

    @property
    def state(self) -> str: ...


class EventStream:
    """Turns what happens to tasks into numbered events and hands each to ``publish``."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._seq = itertools.count(1)
        self._text_task: Subject | None = None
        self._text_kind = ""
        self._text: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def emit(self, task: Subject, kind: str, **fields: Any) -> None:
        """Send one event now (after any text still held, which came first)."""
        self.flush()
        self._send(task, kind, fields)

    def text(self, task: Subject, kind: str, text: str) -> None:
        """Hold ``text`` of ``kind`` (``message`` or ``thought``) to send with what follows."""
        if not text:
            return
        if self._text and (self._text_task is not task or self._text_kind != kind):
            self.flush()
        self._text_task, self._text_kind = task, kind
        self._text.append(text)
        if self._timer is None:
            # Nothing was sent within the interval: send now, and hold what follows.
            self.flush()
            self._timer = asyncio.get_running_loop().call_later(TEXT_INTERVAL, self.flush)

    def flush(self) -> None:
        """Send the text held so far, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._text or self._text_task is None:
            return
        text, self._text = "".join(self._text), []
        self._send(self._text_task, self._text_kind, {"text": text})

    def drop(self, task: Subject) -> None:
        """Forget text held for ``task`` (it was replaced by a new one)."""
        if self._text_task is task:
            self._text = []
            self.flush()

    def _send(self, task: Subject, kind: str, fields: dict[str, Any]) -> None:
        event = {
            "taskId": task.task_id,
            "seq": next(self._seq),
            "kind": kind,
            "state": task.state,
            **fields,
        }
        try:
            self._publish(event)
        except Exception:  # a broken listener must not break the agent's stream
            logger.exception("could not publish a task event")
