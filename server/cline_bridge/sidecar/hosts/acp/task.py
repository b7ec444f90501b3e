"""One Cline task of the ACP host: its session, turns, tool calls, open approvals and queue."""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.tool_calls import readable_title, title_tool

# Task states, as results and events name them (docs/protocol.md, "Task states").
RUNNING = "running"
AWAITING_APPROVAL = "awaitingApproval"
IDLE = "idle"
FAILED = "failed"
NO_TASK = "none"

# The text Cline itself sends when a button resumes an idle task (clineapi.md, section 3.2).
RESUME_TEXT = "[TASK RESUMPTION] Please continue where you left off."

_ask_numbers = itertools.count(1)
_STATUS_RANK = {"pending": 0, "in_progress": 1, "completed": 2, "failed": 2}


@dataclass
class ToolCallRecord:
    """What is known of one tool call, merged from ``tool_call`` and ``tool_call_update``."""

    tool_call_id: str
    title: str = ""
    kind: str = "other"
    status: str = "pending"
    input: Any = None
    output: Any = None

    def merge(self, fields: dict[str, Any]) -> None:
        """Take the fields an update carries; an absent field keeps its value (ACP semantics).

        The status never goes back: Cline announces an approved tool's ``tool_call`` (status
        ``pending``) after it reported the call ``in_progress``.
        """
        if isinstance(fields.get("title"), str):
            self.title = fields["title"]
        if isinstance(fields.get("kind"), str):
            self.kind = fields["kind"]
        status = fields.get("status")
        if isinstance(status, str) and _STATUS_RANK.get(status, 0) >= _STATUS_RANK.get(
            self.status, 0
        ):
            self.status = status
        if "rawInput" in fields:
            self.input = fields["rawInput"]
        if "rawOutput" in fields:
            self.output = fields["rawOutput"]

    def describe(self) -> dict[str, Any]:
        return {
            "toolCallId": self.tool_call_id,
            "tool": title_tool(self.title),
            "title": readable_title(self.title, self.input),
            "toolKind": self.kind,
            "status": self.status,
            "input": self.input,
            "output": self.output,
        }


@dataclass
class Ask:
    """An open ``session/request_permission`` from the agent, answered once."""

    request_id: Any
    tool_call: ToolCallRecord
    options: list[dict[str, Any]]
    ask_id: str = field(default_factory=lambda: f"ask-{next(_ask_numbers)}")

    def option_id(self, *kinds: str) -> str | None:
        """The id of the first option of the first of ``kinds`` the agent offered."""
        for kind in kinds:
            for option in self.options:
                if option.get("kind") == kind and isinstance(option.get("optionId"), str):
                    return str(option["optionId"])
        return None


@dataclass
class Task:
    """A Cline task: one ACP session. Its ``session_id`` is the task id callers see."""

    session_id: str
    turns: int = 0
    turn: asyncio.Task[None] | None = None
    """The running ``session/prompt``, if any."""
    failed: bool = False
    """The agent died under it; the next message reloads the session in a new agent."""
    queue: deque[TextAndImages] = field(default_factory=deque)
    asks: OrderedDict[str, Ask] = field(default_factory=OrderedDict)
    tool_calls: dict[str, ToolCallRecord] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set)
    """Tool calls that have had a ``toolCall`` event."""

    @property
    def task_id(self) -> str:
        return self.session_id

    @property
    def running(self) -> bool:
        return self.turn is not None and not self.turn.done()

    @property
    def state(self) -> str:
        if self.failed:
            return FAILED
        if self.asks:
            return AWAITING_APPROVAL
        return RUNNING if self.running else IDLE

    def tool_call(self, tool_call_id: str) -> ToolCallRecord:
        """The record for ``tool_call_id``, created on first sight.

        Cline announces a tool that needs approval with a ``tool_call_update`` before its
        ``tool_call`` (cline-acp.md, "Ordering quirk"), so either kind may come first.
        """
        record = self.tool_calls.get(tool_call_id)
        if record is None:
            record = self.tool_calls[tool_call_id] = ToolCallRecord(tool_call_id)
        return record

    def take_queue(self) -> TextAndImages | None:
        """The queued messages as one prompt (texts joined by blank lines), emptying the queue."""
        if not self.queue:
            return None
        messages = list(self.queue)
        self.queue.clear()
        texts = [message.text for message in messages if message.text]
        images = tuple(image for message in messages for image in message.images)
        return TextAndImages("\n\n".join(texts) if texts else None, images)
