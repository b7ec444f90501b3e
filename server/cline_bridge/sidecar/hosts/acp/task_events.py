"""``clineBridge/taskEvent``: numbering, text coalescing, and the agent's ``session/update``s.

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
from typing import Any

from cline_bridge.sidecar.hosts.acp.task import Task

logger = logging.getLogger(__name__)

TEXT_INTERVAL = 0.05
"""Seconds after sending agent text during which more text is held; it then goes in one event."""

Publish = Callable[[dict[str, Any]], None]

_TEXT_KINDS = {"agent_message_chunk": "message", "agent_thought_chunk": "thought"}
_TOOL_KINDS = frozenset({"tool_call", "tool_call_update"})
# Updates with nothing for the task's followers: the replay of a loaded session's user turns,
# and the agent's notes about its own modes and settings.
_QUIET_KINDS = frozenset(
    {
        "user_message_chunk",
        "current_mode_update",
        "config_option_update",
        "session_info_update",
        "available_commands_update",
    }
)


class EventStream:
    """Turns what happens to tasks into numbered events and hands each to ``publish``."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._seq = itertools.count(1)
        self._text_task: Task | None = None
        self._text_kind = ""
        self._text: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def emit(self, task: Task, kind: str, **fields: Any) -> None:
        """Send one event now (after any text still held, which came first)."""
        self.flush()
        self._send(task, kind, fields)

    def text(self, task: Task, kind: str, text: str) -> None:
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

    def drop(self, task: Task) -> None:
        """Forget text held for ``task`` (it was replaced by a new one)."""
        if self._text_task is task:
            self._text = []
            self.flush()

    def _send(self, task: Task, kind: str, fields: dict[str, Any]) -> None:
        event = {
            "taskId": task.session_id,
            "seq": next(self._seq),
            "kind": kind,
            "state": task.state,
            **fields,
        }
        try:
            self._publish(event)
        except Exception:  # a broken listener must not break the agent's stream
            logger.exception("could not publish a task event")


def apply_session_update(task: Task, update: Any, events: EventStream) -> None:
    """Record one ``session/update`` in ``task`` and send the events it makes."""
    if not isinstance(update, dict):
        return
    kind = update.get("sessionUpdate")
    if kind in _TEXT_KINDS:
        content = update.get("content")
        if isinstance(content, dict) and content.get("type") == "text":
            events.text(task, _TEXT_KINDS[kind], str(content.get("text", "")))
    elif kind in _TOOL_KINDS:
        tool_call_id = update.get("toolCallId")
        if not isinstance(tool_call_id, str):
            return
        record = task.tool_call(tool_call_id)
        before = record.describe() if tool_call_id in task.announced else None
        record.merge(update)
        after = record.describe()
        if after != before:  # Cline repeats itself (the same status, no new output)
            task.announced.add(tool_call_id)
            events.emit(task, "toolCall", **after)
    elif kind not in _QUIET_KINDS:
        logger.debug("session/update %r not passed on", kind)
