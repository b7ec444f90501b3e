"""Task events from Cline's records: what changed since the last reading of a task, as events.

The ACP host hears of everything from the agent; the editor host only sees what Cline writes down
(``records``), so it compares each new reading of a task with the last one:

- a new session of this window: ``started``; the previous task is replaced and says no more;
- a new user message with text or images: ``turnStart`` (Cline wraps the text in
  ``<user_input mode="act">``, which is taken off);
- an assistant message's text and thinking: ``message`` and ``thought``; its ``tool_use``:
  ``toolCall`` (``pending``); a ``tool_result``: ``toolCall`` (``completed``, or ``failed`` for an
  error result);
- the manifest's status ``pending`` (Cline waits for an approval of the last tool without a
  result): ``approval``; leaving it: ``approvalResolved``, with the outcome pressed through the
  bridge, else read from the tool's result once it is there (Cline's panel answered);
- the status ``idle``: ``turnEnd`` (``end_turn``; ``error``, after an ``error`` event, when the
  model gave no answer to the last user message), with the usage the manifest records;
  ``failed``: ``error``.

Messages are read before the status, so a turn's text comes before its end, as Cline wrote them.
The events mean what the ACP host's mean (docs/protocol.md, "Task events").
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cline_bridge.sidecar.cline_records import Usage
from cline_bridge.sidecar.hosts.editor.records import Session
from cline_bridge.sidecar.task_events import EventStream
from cline_bridge.sidecar.tool_calls import tool_kind, tool_title

RUNNING, AWAITING_APPROVAL, IDLE, FAILED, NO_TASK = (
    "running",
    "awaitingApproval",
    "idle",
    "failed",
    "none",
)
"""The task states, as both hosts name them."""

_STATES = {
    "running": RUNNING,
    "pending": AWAITING_APPROVAL,
    "idle": IDLE,
    "completed": IDLE,
    "cancelled": IDLE,
    "failed": FAILED,
}
_TERMINAL = frozenset({"completed", "failed", "cancelled"})
_USER_INPUT = re.compile(r"\A\s*<user_input[^>]*>(.*)</user_input>\s*\Z", re.DOTALL)
_DENIED = re.compile(r"\bdenied\b", re.IGNORECASE)
NO_ANSWER = (
    "Cline's turn ended without an answer from the model (Cline's panel says why: the provider "
    "failed, or the turn was cancelled)"
)


@dataclass
class ToolCall:
    tool_call_id: str
    tool: str
    input: Any
    status: str = "pending"
    output: Any = None

    def describe(self) -> dict[str, Any]:
        """The fields of a ``toolCall`` event (and of a button's result)."""
        return {
            "toolCallId": self.tool_call_id,
            "tool": self.tool,
            "title": tool_title(self.tool, self.input),
            "toolKind": tool_kind(self.tool),
            "status": self.status,
            "input": self.input,
            "output": self.output,
        }


@dataclass
class TrackedTask:
    """One Cline task of this window, as far as its records have been read."""

    task_id: str
    status: str = "running"
    """The manifest's status when last read."""
    turns: int = 0
    told: dict[str, list[int]] = field(default_factory=dict)
    """Per message id, what has been told of each of its parts: the length of a text part's text,
    1 for any other part."""
    tool_calls: dict[str, ToolCall] = field(default_factory=dict)
    ask: str | None = None
    """The tool call an approval is open for (``""``: one whose tool is not recorded yet)."""
    asked_at: float | None = None
    """When the bridge saw that approval open (``time.monotonic()``; None: before it looked)."""
    resolving: str | None = None
    """A tool call whose approval was answered in Cline's panel: its outcome is in its result."""
    answers: dict[str, bool] = field(default_factory=dict)
    """Approvals answered through the bridge: tool call id -> allowed."""
    last_role: str | None = None
    """Who spoke last in the conversation: ``user`` or ``assistant``."""
    turn_open: bool = False
    """A turn started and has not ended yet. Kept apart from the status: a short turn can run
    whole between two readings, which then both say ``idle``."""

    @property
    def state(self) -> str:
        if self.status == "pending" and self.ask in self.answers:
            return RUNNING  # answered through the bridge; Cline has not recorded it yet
        return _STATES.get(self.status, RUNNING)

    @property
    def open_tool(self) -> ToolCall | None:
        """The tool an open approval is for, if it is known."""
        return self.tool_calls.get(self.ask) if self.ask else None


class Tracker:
    """Follows the tasks of one VS Code window in Cline's records and sends their events.

    ``window_pid`` is the extension host's process (the manifest's ``pid``); tasks of other
    windows are not followed (None: follow every task).
    """

    def __init__(self, events: EventStream, window_pid: int | None) -> None:
        self._events = events
        self._window_pid = window_pid
        self._tasks: dict[str, TrackedTask] = {}
        self._ignored: set[str] = set()
        self.current: TrackedTask | None = None
        """The task Cline works on in this window: the last one started."""
        self._new_task_waiters: list[asyncio.Future[TrackedTask]] = []

    def is_ours(self, session_id: str, pid: int | None) -> bool:
        if session_id in self._ignored:
            return False
        ours = self._window_pid is None or pid is None or pid == self._window_pid
        if not ours:
            self._ignored.add(session_id)
        return ours

    def knows(self, session_id: str) -> bool:
        return session_id in self._tasks or session_id in self._ignored

    def next_task(self) -> asyncio.Future[TrackedTask]:
        """A future for the next task that starts in this window (after this call)."""
        waiter: asyncio.Future[TrackedTask] = asyncio.get_running_loop().create_future()
        self._new_task_waiters.append(waiter)
        return waiter

    def learn(self, sessions: Sequence[Session]) -> None:
        """Take in the tasks that existed before the bridge looked, oldest first, silently: no
        events, but their state counts (an approval left open can be answered). The last one
        still open is Cline's current task."""
        for session in sessions:
            manifest = session.manifest
            if not self.is_ours(manifest.session_id, manifest.pid):
                continue
            task = self._tasks.setdefault(manifest.session_id, TrackedTask(manifest.session_id))
            self._read_messages(task, session, tell=False)
            self._read_status(task, manifest.status, tell=False)
            if manifest.status not in _TERMINAL:
                self.current = task

    def update(self, session: Session) -> None:
        """A new reading of a task: send what changed since the last one."""
        manifest = session.manifest
        if not self.is_ours(manifest.session_id, manifest.pid):
            return
        task = self._tasks.get(manifest.session_id)
        if task is None:
            task = self._start(session)
        elif task is not self.current:
            return  # replaced by a newer task: it says no more
        self._read_messages(task, session, tell=True)
        self._read_status(task, manifest.status, tell=True, usage=manifest.usage)

    def lost(self, reason: str) -> None:
        """The records cannot be read any more: tell the current task's followers that no more
        events will come for it (``final``)."""
        if self.current is not None:
            self._emit(self.current, "error", message=reason, code=None, final=True)
            self._events.flush()

    def pressed(self, task: TrackedTask, allow: bool) -> None:
        """The bridge answered the open approval of ``task`` (a button)."""
        if task.ask:
            task.answers[task.ask] = allow

    # -- what changed ---------------------------------------------------------------------------

    def _start(self, session: Session) -> TrackedTask:
        task = TrackedTask(session.manifest.session_id)
        self._tasks[task.task_id] = task
        previous, self.current = self.current, task
        if previous is not None:
            self._events.drop(previous)
        messages = session.messages or ()
        first_user = next((m for m in messages if m.get("role") == "user"), None)
        text, images = _user_input(first_user) if first_user else (None, 0)
        self._events.emit(task, "started", text=session.manifest.prompt or text, images=images)
        waiters, self._new_task_waiters = self._new_task_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(task)
        return task

    def _read_messages(self, task: TrackedTask, session: Session, *, tell: bool) -> None:
        for message in session.messages or ():
            message_id = message.get("id")
            content = message.get("content")
            role = message.get("role")
            if not isinstance(message_id, str) or not isinstance(content, list):
                continue
            told = task.told.setdefault(message_id, [])
            if not told and role == "user" and _says_something(content):
                task.turns += 1
                task.turn_open = True
                if tell:
                    text, images = _user_input(message)
                    self._emit(task, "turnStart", turn=task.turns, text=text, images=images)
            for index, part in enumerate(content):
                if isinstance(part, dict):
                    self._read_part(task, told, index, part, tell=tell and role == "assistant")
            if role in ("user", "assistant"):
                task.last_role = role

    def _read_part(
        self, task: TrackedTask, told: list[int], index: int, part: dict[str, Any], *, tell: bool
    ) -> None:
        """Tell what is new in one part of a message (``tell``: the assistant's only; a user's
        prompt was told as ``turnStart``, and its tool results are told always)."""
        kind = part.get("type")
        before = told[index] if index < len(told) else None
        if kind in ("text", "thinking"):
            text = part.get(kind)
            text = text if isinstance(text, str) else ""
            if before is None:
                told.append(len(text))
            elif len(text) > before:
                told[index] = len(text)
            else:
                return
            if tell:
                event = "message" if kind == "text" else "thought"
                self._events.text(task, event, text[before or 0 :])
            return
        if before is not None:
            return  # told already; these parts do not change
        told.append(1)
        if kind == "tool_use":
            self._tool_use(task, part, tell=tell)
        elif kind == "tool_result":
            self._tool_result(task, part, tell=True)

    def _tool_use(self, task: TrackedTask, part: dict[str, Any], *, tell: bool) -> None:
        call_id, tool = part.get("id"), part.get("name")
        if not isinstance(call_id, str) or not isinstance(tool, str):
            return
        call = task.tool_calls[call_id] = ToolCall(call_id, tool, part.get("input"))
        if task.ask == "":  # the approval came before its tool was recorded
            task.ask = call_id
        if tell:
            self._emit(task, "toolCall", **call.describe())

    def _tool_result(self, task: TrackedTask, part: dict[str, Any], *, tell: bool) -> None:
        call = task.tool_calls.get(str(part.get("tool_use_id")))
        if call is None:
            return
        failed = part.get("is_error") is True
        call.output = _parsed(part.get("content"))
        if task.ask == call.tool_call_id:
            # Its approval was answered and Cline went on, between two readings that both said
            # "pending" (for this call, then for the next).
            self._answered(task, tell=tell)
        if task.resolving == call.tool_call_id:
            task.resolving = None
            denied = failed and _DENIED.search(json.dumps(call.output)) is not None
            if tell:
                self._resolve(task, call.tool_call_id, not denied, source="panel")
        call.status = "failed" if failed else "completed"
        if tell:
            self._emit(task, "toolCall", **call.describe())

    def _read_status(
        self, task: TrackedTask, status: str, *, tell: bool, usage: Usage | None = None
    ) -> None:
        before, task.status = task.status, status
        if status == "pending":
            waiting = _waiting_tool(task)
            # A new approval; or, still "pending", one for the next tool (the last was answered).
            if before != "pending" or (task.ask is None and waiting):
                task.ask = waiting
                task.asked_at = time.monotonic() if tell else None
                if tell:
                    self._open_approval(task)
            return
        if before == "pending" and task.ask is not None:
            self._answered(task, tell=tell)
        if status == "running":
            task.turn_open = True  # a resumption may start before its prompt is recorded
            return
        if status in ("idle", "cancelled") and task.resolving is not None:
            if tell:
                self._resolve(task, task.resolving, None, source="cancel")
            task.resolving = None
        ending, task.turn_open = task.turn_open and task.turns > 0, False
        if not tell:
            return
        if ending and status == "idle":
            answered = task.last_role == "assistant"
            if not answered:
                self._emit(task, "error", message=NO_ANSWER, code=None)
            stop = "end_turn" if answered else "error"
            self._emit(task, "turnEnd", turn=task.turns, stopReason=stop, queued=0, usage=usage)
        elif ending and status == "cancelled":
            self._emit(
                task, "turnEnd", turn=task.turns, stopReason="cancelled", queued=0, usage=usage
            )
        if status == "failed" and before != "failed":
            self._emit(task, "error", message="Cline failed the task", code=None)

    def _open_approval(self, task: TrackedTask) -> None:
        call = task.open_tool
        self._emit(
            task,
            "approval",
            askId=f"ask-{task.ask or task.task_id}",
            toolCallId=call.tool_call_id if call else None,
            tool=call.tool if call else None,
            title=tool_title(call.tool, call.input) if call else "a tool",
            toolKind=tool_kind(call.tool) if call else "other",
            input=call.input if call else None,
            options=["approve", "reject"],
        )

    def _answered(self, task: TrackedTask, *, tell: bool) -> None:
        """The open approval was answered: say how, if that is known yet."""
        call_id, task.ask = task.ask or "", None
        allowed = task.answers.pop(call_id, None)
        if allowed is None:
            # Answered in Cline's panel: its result will say how.
            call = task.tool_calls.get(call_id)
            if call is not None and call.status == "pending":
                task.resolving = call_id
                return
            allowed = call is None or call.status != "failed"
            source = "panel"
        else:
            source = "button"
        if tell:
            self._resolve(task, call_id, allowed, source=source)

    def _resolve(self, task: TrackedTask, call_id: str, allowed: bool | None, source: str) -> None:
        outcome = "cancelled" if allowed is None else ("allowed" if allowed else "rejected")
        self._emit(
            task,
            "approvalResolved",
            askId=f"ask-{call_id or task.task_id}",
            toolCallId=call_id or None,
            outcome=outcome,
            source=source,
        )
        call = task.tool_calls.get(call_id)
        if allowed and call is not None and call.status == "pending":
            call.status = "in_progress"
            self._emit(task, "toolCall", **call.describe())

    def _emit(self, task: TrackedTask, kind: str, **fields: Any) -> None:
        self._events.emit(task, kind, **fields)


def _says_something(content: list[Any]) -> bool:
    """Whether a user message is a prompt (text or images), not only tool results."""
    return any(isinstance(p, dict) and p.get("type") in ("text", "image") for p in content)


def _user_input(message: dict[str, Any] | None) -> tuple[str | None, int]:
    """The text a user message says (Cline's ``<user_input>`` wrapper taken off) and how many
    images it carries."""
    if message is None:
        return None, 0
    texts, images = [], 0
    for part in message.get("content") or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "image":
            images += 1
        elif part.get("type") == "text" and isinstance(part.get("text"), str):
            match = _USER_INPUT.match(part["text"])
            texts.append(match[1] if match else part["text"])
    return ("\n\n".join(texts) if texts else None), images


def _waiting_tool(task: TrackedTask) -> str:
    """The last tool call without a result: the one Cline asks about ("": none recorded yet)."""
    waiting = [c for c in task.tool_calls.values() if c.status == "pending"]
    return waiting[-1].tool_call_id if waiting else ""


def _parsed(content: Any) -> Any:
    """A tool result's content; a JSON string (Cline writes its results so) decoded."""
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError:
            return content
    return content
