"""Follow one task on a terminal: what ``cline-bridge task --follow`` prints and answers.

``follow_task`` reads a subscribed ``Bridge``'s ``clineBridge/taskEvent`` notifications for one
task and renders them as they stream: the agent's text as it arrives, one line per tool-call
status change, and approvals as a ``y/N`` question (answered from a ``LineSource`` such as
``StdinLines``, or automatically with ``auto_approve``). With ``json_lines`` each event is one line
of JSON instead, exactly as received, and nothing else goes to that stream. It returns the exit
status once the task's turn is over with nothing queued (0 for ``end_turn``, else 1) or the task
failed (1); the reason for a 1 is one line on ``err``.

Events are read from the bridge's queue, which keeps everything since the handshake: subscribe
before starting the task, and the events that beat the start command's answer are not lost.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import re
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from cline_bridge.cli.exits import EXIT_ERROR, EXIT_OK
from cline_bridge.client.bridge import Bridge
from cline_bridge.wire.errors import BridgeError

TITLE_LIMIT = 160
"""Characters of a tool title or a message shown on one line."""

# C0 and C1 controls but tab and newline: agent text must not drive the terminal (escape codes).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class LineSource(Protocol):
    """Where answers to approval questions come from."""

    @property
    def echo(self) -> bool:
        """Whether to print the answer read: the terminal did not show it (piped input)."""
        ...

    async def readline(self) -> str | None:
        """The next line, without its newline; None at the end of the input."""
        ...


@dataclass(frozen=True)
class FollowSettings:
    """How ``follow_task`` renders and answers."""

    json_lines: bool = False
    """Print each event as one line of JSON, exactly as received, and nothing else."""
    auto_approve: bool = False
    """Approve every ask (``--yes``); a line (on ``err`` with ``json_lines``) says so."""
    answers: LineSource | None = None
    """Ask each approval as a ``y/N`` question answered from here; None: nobody here can."""
    reject_unanswered: bool = False
    """Reject the asks nobody here answers (a headless sidecar has nobody else to ask);
    otherwise they are left to others: the editor, ``cline-bridge approve`` or ``reject``."""


async def follow_task(
    bridge: Bridge,
    task_id: str,
    *,
    out: TextIO,
    err: TextIO,
    settings: FollowSettings = FollowSettings(),
) -> int:
    """Render task ``task_id``'s events from ``bridge`` (connected with ``subscribe_events``)
    until its turn is over; return the exit status. Runs until then: the caller bounds it
    (Ctrl-C); a lost connection raises ``BridgeConnectionError``."""
    return await _Follower(bridge, task_id, out, err, settings).run()


class StdinLines:
    """Lines typed or piped into a file descriptor, read by a daemon thread.

    Waiting for an answer then never blocks the event loop, and a question left unanswered never
    blocks the exit (the thread blocks in ``os.read``, which holds no interpreter lock). On a
    terminal, lines typed before a question are dropped: they were not its answer.
    """

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self.tty = os.isatty(fd)
        self._lines: asyncio.Queue[str | None] | None = None

    @property
    def echo(self) -> bool:
        return not self.tty

    @staticmethod
    def can_ask(fd: int = 0) -> bool:
        """Whether ``fd`` is a terminal or a pipe (a socket counts): somebody can answer there.
        Not ``/dev/null``, a closed descriptor, or a file."""
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            return False
        return os.isatty(fd) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    async def readline(self) -> str | None:
        if self._lines is None:
            self._lines = asyncio.Queue()
            reader = threading.Thread(
                target=self._read,
                args=(asyncio.get_running_loop(), self._lines),
                name="cline-bridge-stdin",
                daemon=True,
            )
            reader.start()
        elif self.tty:
            while not self._lines.empty():
                if self._lines.get_nowait() is None:  # the end of the input comes last: keep it
                    self._lines.put_nowait(None)
                    break
        line = await self._lines.get()
        if line is None:
            self._lines.put_nowait(None)  # the end of the input answers every later question
        return line

    def _read(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        partial = ""
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            partial += decoder.decode(chunk, final=not chunk)
            *complete, partial = partial.split("\n")
            items: list[str | None] = [line.rstrip("\r") for line in complete]
            if not chunk:
                items += [partial] if partial else []
                items.append(None)
            try:
                for item in items:
                    loop.call_soon_threadsafe(lines.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is asking any more
                return
            if not chunk:
                return


@dataclass(frozen=True)
class _Symbols:
    tool: str
    ellipsis: str

    @classmethod
    def for_stream(cls, stream: TextIO) -> _Symbols:
        if _encodable(stream, "\u2699\u2026"):
            return cls(tool="\u2699", ellipsis="\u2026")
        return cls(tool="*", ellipsis="...")


class _Follower:
    def __init__(
        self, bridge: Bridge, task_id: str, out: TextIO, err: TextIO, settings: FollowSettings
    ) -> None:
        self._bridge = bridge
        self._task_id = task_id
        self._out = out
        self._err = err
        self._settings = settings
        self._symbols = _Symbols.for_stream(out)
        self._open_line = False  # what was written to out last does not end its line
        self._thinking = False
        self._seen = False
        self._statuses: dict[str, str] = {}
        self._questions: dict[str, asyncio.Task[None]] = {}  # askId -> its question, unanswered
        self._ours: set[str] = set()  # asks answered from here (or about to be)
        self._resolved: set[str] = set()
        self._presses: set[asyncio.Task[None]] = set()
        self._asking = asyncio.Lock()  # one question at a time, answered in order

    async def run(self) -> int:
        try:
            async for event in self._bridge.events():
                if event.get("taskId") != self._task_id:
                    if self._seen and event.get("kind") == "started":
                        return self._fail(
                            f"the task was replaced by a new one (task {event.get('taskId')})"
                        )
                    continue
                self._seen = True
                if self._settings.json_lines:
                    self._write(json.dumps(event, ensure_ascii=False) + "\n")
                else:
                    self._render(event)
                status = self._react(event)
                if status is not None:
                    return status
            return self._fail("the connection to the bridge was closed")
        finally:
            self._end_line()
            pending = [*self._questions.values(), *self._presses]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # -- what an event does -----------------------------------------------------------------

    def _react(self, event: Mapping[str, Any]) -> int | None:
        kind, state = event.get("kind"), event.get("state")
        if kind == "approval":
            self._on_approval(event)
        elif kind == "approvalResolved":
            ask_id = event.get("askId")
            if isinstance(ask_id, str):
                self._resolved.add(ask_id)
                question = self._questions.pop(ask_id, None)
                if question is not None:
                    question.cancel()  # answered elsewhere: press nothing
        elif kind == "turnEnd" and state == "idle":
            reason = event.get("stopReason")
            if reason == "end_turn":
                return EXIT_OK
            if reason == "cancelled":
                return self._fail("the turn was cancelled")
            return self._fail(f"Cline stopped the turn: {reason}")
        elif kind == "error" and _is_the_end(event):
            return self._fail(_one_line(event.get("message")) or "the task failed")
        return None

    def _on_approval(self, event: Mapping[str, Any]) -> None:
        ask_id = event.get("askId")
        if not isinstance(ask_id, str) or ask_id in self._resolved:
            return
        settings = self._settings
        if settings.auto_approve:
            self._ours.add(ask_id)
            self._note("Approved automatically (--yes).")
            self._spawn_press(approve=True)
        elif settings.answers is not None and not settings.json_lines:
            question = asyncio.ensure_future(self._ask(ask_id, settings.answers))
            self._questions[ask_id] = question
        elif settings.reject_unanswered:
            self._ours.add(ask_id)
            self._note("Rejected: nobody here can answer (--yes approves every ask).")
            self._spawn_press(approve=False)
        elif not settings.json_lines:
            self._line("  Waiting for an answer: in the editor, or cline-bridge approve | reject.")

    async def _ask(self, ask_id: str, answers: LineSource) -> None:
        async with self._asking:
            if ask_id in self._resolved:
                return
            self._end_line()
            self._write("  Approve? [y/N] ")
            self._open_line = True
            answer = await answers.readline()
            if answers.echo:
                self._write("(end of input: no)\n" if answer is None else f"{_one_line(answer)}\n")
            self._open_line = False  # a terminal echoed the answer and its newline
            # From here the answer is given: a resolution arriving now is ours, not a reason
            # to withdraw the question.
            self._questions.pop(ask_id, None)
            self._ours.add(ask_id)
            await self._press(approve=answer is not None and _is_yes(answer))

    def _spawn_press(self, *, approve: bool) -> None:
        press = asyncio.ensure_future(self._press(approve=approve))
        self._presses.add(press)
        press.add_done_callback(self._presses.discard)

    async def _press(self, *, approve: bool) -> None:
        try:
            if approve:
                await self._bridge.press_primary_button()
            else:
                await self._bridge.press_secondary_button()
        except BridgeError as error:
            self._end_line()
            print(f"cline-bridge: {error.message}", file=self._err, flush=True)

    def _fail(self, reason: str) -> int:
        self._end_line()
        print(f"cline-bridge: {reason}", file=self._err, flush=True)
        return EXIT_ERROR

    # -- text rendering -----------------------------------------------------------------------

    def _render(self, event: Mapping[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "message":
            text = _printable(event.get("text"))
            if text:
                self._thinking = False
                self._write(text)
                self._open_line = not text.endswith("\n")
            return
        if kind == "thought":
            if not self._thinking and event.get("text"):
                self._line(f"  {self._symbols.ellipsis} thinking")
                self._thinking = True
            return
        self._thinking = False
        if kind == "toolCall":
            self._render_tool_call(event)
        elif kind == "approval":
            self._line(f"  ? Cline wants to {self._title(event)}")
        elif kind == "approvalResolved":
            if event.get("askId") not in self._ours:
                source = _one_line(event.get("source")) or "elsewhere"
                self._line(f"  Approval {_one_line(event.get('outcome'))} ({source}).")
        elif kind == "turnStart":
            turn = event.get("turn")
            if isinstance(turn, int) and turn > 1:  # the first turn's text is the task itself
                self._line(f"> {self._said(event)}")
        elif kind == "queued":
            self._line(f"  (queued: {self._said(event)})")
        elif kind in ("turnEnd", "error"):
            self._end_line()
            if kind == "error" and not _is_the_end(event):  # the end says it as it fails
                message = _one_line(event.get("message")) or "unknown error"
                print(f"cline-bridge: {message}", file=self._err, flush=True)

    def _render_tool_call(self, event: Mapping[str, Any]) -> None:
        call_id, status = event.get("toolCallId"), event.get("status")
        if not isinstance(call_id, str) or not isinstance(status, str):
            return
        if self._statuses.get(call_id) == status:
            return  # new output or a better title: not a status change
        self._statuses[call_id] = status
        kind = _one_line(event.get("toolKind"))
        title = self._title(event)
        label = f"{kind}: {title}" if kind else title
        self._line(f"  {self._symbols.tool} {label}  [{_one_line(status)}]")

    def _title(self, event: Mapping[str, Any]) -> str:
        title = _one_line(event.get("title")) or _one_line(event.get("toolKind")) or "use a tool"
        return self._shorten(title)

    def _said(self, event: Mapping[str, Any]) -> str:
        text = self._shorten(_one_line(event.get("text")))
        images = event.get("images")
        if isinstance(images, int) and images > 0:
            text += f" (+{images} image{'s' if images > 1 else ''})"
        return text

    def _shorten(self, text: str) -> str:
        if len(text) <= TITLE_LIMIT:
            return text
        return text[: TITLE_LIMIT - len(self._symbols.ellipsis)] + self._symbols.ellipsis

    # -- output -------------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        """A line about what this command did: on ``out``, or ``err`` when out is JSON only."""
        if self._settings.json_lines:
            print(f"cline-bridge: {text}", file=self._err, flush=True)
        else:
            self._line(f"  {text}")

    def _line(self, text: str) -> None:
        self._end_line()
        self._write(text + "\n")

    def _end_line(self) -> None:
        """End the paragraph or question being written, so that the next output starts a line."""
        if self._open_line:
            self._write("\n")
            self._open_line = False

    def _write(self, text: str) -> None:
        try:
            self._out.write(text)
        except UnicodeEncodeError:  # a terminal that cannot show every character
            encoding = self._out.encoding or "ascii"
            self._out.write(text.encode(encoding, "replace").decode(encoding))
        self._out.flush()


def _encodable(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _is_the_end(error: Mapping[str, Any]) -> bool:
    """Whether an ``error`` event ends the task for its followers: the task failed, or no more
    events will come for it (``final``: the editor host cannot read Cline's records any more)."""
    return error.get("state") == "failed" or error.get("final") is True


def _is_yes(answer: str) -> bool:
    return answer.strip().lower() in ("y", "yes")


def _printable(value: Any) -> str:
    """Message text safe for a terminal: newlines and tabs kept, other controls dropped."""
    if not isinstance(value, str):
        return ""
    return _CONTROLS.sub("", value.replace("\r\n", "\n"))


def _one_line(value: Any) -> str:
    """A value as one clean line: controls and runs of blanks become one space."""
    if not isinstance(value, str):
        return ""
    return " ".join(_ANY_CONTROL.sub(" ", value).split())
