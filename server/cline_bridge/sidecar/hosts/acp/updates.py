"""The agent's ``session/update`` notifications, recorded in the task and sent on as events."""

from __future__ import annotations

import logging
from typing import Any

from cline_bridge.sidecar.hosts.acp.task import Task
from cline_bridge.sidecar.task_events import EventStream

logger = logging.getLogger(__name__)

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
