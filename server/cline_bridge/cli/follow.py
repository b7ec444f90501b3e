"""Follow one task on a terminal: what ``cline-bridge task --follow`` prints and answers.

``follow_task`` reads a subscribed ``Bridge``'s ``clineBridge/taskEvent`` notifications for one
task and renders them as they stream, for a person to judge: the agent's text as it arrives; one
line per tool-call status change, in words (``edit hello.txt``, ``run `pytest -q```); each
approval with what it would do (the diff of an edit, the command line and its folder, the URL of
a fetch) before its question (``y/N/d/?``, answered from a ``LineSource`` such as
``answers.StdinLines``, or automatically with ``auto_approve``); at the end of the turn its stop
reason, time and, where Cline recorded them, tokens and cost. On a terminal a spinner says how
long the model or a tool has been at it; colours follow ``terminal.wants_color``. With
``json_lines`` each event is one line of JSON instead, exactly as received, and nothing else goes
to that stream.

It returns the exit status once the task's turn is over with nothing queued (0 for
``end_turn``, else 1) or the task failed (1); the reason for a 1 is one line on ``err``. Events
are read from the bridge's queue, which keeps everything since the handshake: subscribe before
starting the task, and the events that beat the start command's answer are not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from cline_bridge.cli import terminal, tool_view
from cline_bridge.cli.answers import LineSource
from cline_bridge.cli.exits import EXIT_ERROR, EXIT_OK
from cline_bridge.cli.screen import terminal_size
from cline_bridge.client.bridge import Bridge
from cline_bridge.wire.errors import BridgeError

TITLE_LIMIT = 160
"""Characters of a tool title or a message shown on one line."""
PREVIEW_TIMEOUT = 5.0
"""Seconds an approval waits for the files it shows to be read; then it shows its summary."""
MIN_PREVIEW_LINES = 10
"""Lines of a diff an approval shows at least, however small the terminal."""

_T = TypeVar("_T")
# C0 and C1 controls but tab and newline: agent text must not drive the terminal (escape codes).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_YES, _NO, _DIFF, _HELP = ("y", "yes"), ("", "n", "no"), ("d", "diff"), ("?", "h", "help")


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
    color: bool = False
    """Colour ``out`` (``terminal.wants_color``)."""
    progress: bool = False
    """Draw a spinner on ``out``, which must be a terminal."""
    cwd: str | None = None
    """The folder paths are shown relative to (default: the current one)."""
    task_folder: str | None = None
    """The folder the task's commands run in (default: ``cwd``)."""


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


class _Follower:
    def __init__(
        self, bridge: Bridge, task_id: str, out: TextIO, err: TextIO, settings: FollowSettings
    ) -> None:
        self._bridge = bridge
        self._task_id = task_id
        self._out = out
        self._err = err
        self._settings = settings
        self._cwd = settings.cwd or os.getcwd()
        self._task_folder = settings.task_folder or self._cwd
        self._style = terminal.Style(settings.color)
        self._symbols = terminal.Symbols.for_stream(out)
        self._spinner = (
            terminal.Spinner(out, self._style, self._symbols.frames)
            if settings.progress and not settings.json_lines
            else None
        )
        self._open_line = False  # what was written to out last does not end its line
        self._thinking = False
        self._seen = False
        self._turn_over = False
        self._turn_started = time.monotonic()
        self._statuses: dict[str, str] = {}
        self._summaries: dict[str, str] = {}  # toolCallId -> its summary, once it had input
        self._running: dict[str, str] = {}  # toolCallId -> summary, of tools in progress
        self._outcomes: dict[str, str] = {}  # toolCallId -> how its ask was answered
        self._previews: dict[str, Sequence[str]] = {}  # askId -> its whole diff, shown cut
        self._questions: dict[str, asyncio.Task[None]] = {}  # askId -> its question, unanswered
        self._ours: set[str] = set()  # asks answered from here (or about to be)
        self._resolved: set[str] = set()
        self._presses: set[asyncio.Task[None]] = set()
        self._asking = asyncio.Lock()  # one question at a time, answered in order
        self._held: list[str] | None = None  # output held while a question or a pager waits

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
                    await self._render(event)
                status = self._react(event)
                if status is not None:
                    return status
                self._show_progress()
            return self._fail("the connection to the bridge was closed")
        finally:
            if self._spinner is not None:
                self._spinner.hide()
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
            self._turn_over = True
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
        diff = self._previews.pop(ask_id, ())
        if settings.auto_approve:
            self._ours.add(ask_id)
            self._note("Approved automatically (--yes).")
            self._spawn_press(approve=True)
        elif settings.answers is not None and not settings.json_lines:
            question = asyncio.ensure_future(self._ask(ask_id, diff, settings.answers))
            self._questions[ask_id] = question
        elif settings.reject_unanswered:
            self._ours.add(ask_id)
            self._note("Rejected: nobody here can answer (--yes approves every ask).")
            self._spawn_press(approve=False)
        elif not settings.json_lines:
            self._line("  Waiting for an answer: in the editor, or cline-bridge approve | reject.")

    async def _ask(self, ask_id: str, diff: Sequence[str], answers: LineSource) -> None:
        async with self._asking:
            if ask_id in self._resolved:
                return
            choices = "y/N/d/?" if diff else "y/N/?"
            while True:
                answer = await self._question(f"Approve? [{choices}]", answers)
                key = answer.strip().lower() if answer is not None else "n"
                if key in _DIFF and diff:
                    await self._page(diff)
                elif key in _YES or key in _NO:
                    break
                else:
                    self._explain(bool(diff), unknown=key not in _HELP)
            # From here the answer is given: a resolution arriving now is ours, not a reason
            # to withdraw the question.
            self._questions.pop(ask_id, None)
            self._ours.add(ask_id)
            await self._press(approve=key in _YES)
        self._show_progress()

    async def _question(self, prompt: str, answers: LineSource) -> str | None:
        """Ask ``prompt`` and read the answer. What the task prints meanwhile is held until
        then: it would push the question away from where the person types."""
        self._end_line()
        self._write(f"  {self._style.paint(prompt, 'bold')} ")
        self._held = []
        answered = False
        try:
            answer = await answers.readline()
            answered = True
        finally:
            held = self._release_held()
            if not answered:
                self._write("\n")  # withdrawn (answered elsewhere): its line ends unanswered
            elif answers.echo:
                self._write("(end of input: no)\n" if answer is None else f"{_one_line(answer)}\n")
            # else a terminal echoed the answer and its newline
            self._write("".join(held))
        return answer

    def _explain(self, with_diff: bool, *, unknown: bool) -> None:
        lines = ["    y  approve: Cline goes on and uses the tool"]
        lines.append("    n  reject (also Enter, or the end of the input): Cline is told no")
        if with_diff:
            lines.append("    d  show the whole diff" + (" in $PAGER" if self._pages() else ""))
        lines.append("    ?  this help")
        if unknown:
            self._line("    Answer y or n (? explains).")
        else:
            for line in lines:
                self._line(line)

    async def _page(self, diff: Sequence[str]) -> None:
        text = "".join(self._style.diff_line(line) + "\n" for line in diff)
        if self._pages():
            self._held = []
            try:
                if await terminal.page(text):
                    return
            finally:
                self._write("".join(self._release_held()))
        for line in diff:
            self._line("    " + self._style.diff_line(line))

    def _pages(self) -> bool:
        """Whether ``d`` opens a pager: only on a terminal (a pipe gets the diff inline)."""
        return terminal.is_terminal(self._out) and terminal.is_terminal(self._err)

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

    async def _render(self, event: Mapping[str, Any]) -> None:
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
                self._thinking = True
                if self._spinner is None:  # on a terminal the spinner says it
                    self._line(f"  {self._symbols.ellipsis} thinking")
            return
        self._thinking = False
        if kind == "toolCall":
            self._render_tool_call(event)
        elif kind == "approval":
            await self._render_approval(event)
        elif kind == "approvalResolved":
            self._render_resolution(event)
        elif kind == "turnStart":
            self._turn_over = False
            self._turn_started = time.monotonic()
            turn = event.get("turn")
            if isinstance(turn, int) and turn > 1:  # the first turn's text is the task itself
                self._line(f"> {self._said(event)}")
        elif kind == "queued":
            self._line(f"  (queued: {self._said(event)})")
        elif kind == "turnEnd":
            self._end_line()
            self._render_turn_end(event)
        elif kind == "error":
            self._end_line()
            if not _is_the_end(event):  # the end says it as it fails
                message = _one_line(event.get("message")) or "unknown error"
                print(f"cline-bridge: {message}", file=self._err, flush=True)

    def _render_tool_call(self, event: Mapping[str, Any]) -> None:
        call_id, status = event.get("toolCallId"), event.get("status")
        if not isinstance(call_id, str) or not isinstance(status, str):
            return
        summary = self._summary(call_id, event)
        if status == "in_progress":
            self._running[call_id] = summary
        else:
            self._running.pop(call_id, None)
        if self._statuses.get(call_id) == status:
            return  # new output or a better title: not a status change
        self._statuses[call_id] = status
        symbols, paint = self._symbols, self._style.paint
        if status == "completed":
            line = f"{paint(symbols.done, 'green')} {summary}"
        elif status == "failed":
            why = self._outcomes.get(call_id, "failed")
            line = f"{paint(symbols.failed, 'red')} {summary} {paint(f'({why})', 'red')}"
        elif status == "in_progress":
            line = f"{symbols.running} {summary}"
        else:
            line = f"{paint(symbols.pending, 'dim')} {summary}"
        self._line(f"  {line}")

    async def _render_approval(self, event: Mapping[str, Any]) -> None:
        ask_id = event.get("askId")
        view = await self._preview(event)
        mark = self._style.paint("?", "bold")
        self._line(f"  {mark} Cline wants to {self._shorten(view.summary)}")
        for detail in view.details:
            self._line(f"    {detail}")
        room = max(MIN_PREVIEW_LINES, terminal_size().lines - 8)
        shown, more = tool_view.cut(view.diff, room)
        for line in shown:
            self._line(f"    {self._style.diff_line(line)}")
        if more:
            asked = self._settings.answers is not None and not self._settings.auto_approve
            hint = " (d shows them all)" if asked else ""
            self._line(f"    {self._symbols.ellipsis} {more} more lines{hint}")
        if isinstance(ask_id, str):
            self._previews[ask_id] = view.diff

    def _render_resolution(self, event: Mapping[str, Any]) -> None:
        outcome, call_id = _one_line(event.get("outcome")), event.get("toolCallId")
        if isinstance(call_id, str) and outcome in ("rejected", "cancelled"):
            self._outcomes[call_id] = outcome
        if event.get("askId") not in self._ours:
            source = _one_line(event.get("source")) or "elsewhere"
            self._line(f"  Approval {outcome} ({source}).")

    def _render_turn_end(self, event: Mapping[str, Any]) -> None:
        parts = [_one_line(event.get("stopReason")) or "ended"]
        parts.append(terminal.format_seconds(time.monotonic() - self._turn_started))
        turn = event.get("turn")
        spent = _usage(event.get("usage"), so_far=isinstance(turn, int) and turn > 1)
        parts += spent
        rule = self._symbols.rule * 2
        self._line(self._style.paint(f"  {rule} {self._symbols.separator.join(parts)}", "dim"))

    def _summary(self, call_id: str, event: Mapping[str, Any]) -> str:
        """A tool call's summary, fixed once its input is known: ``create hello.txt`` stays so
        after the file exists."""
        known = self._summaries.get(call_id)
        if known is not None:
            return known
        summary = self._shorten(tool_view.summarize(event, self._cwd, self._task_folder))
        if event.get("input"):
            self._summaries[call_id] = summary
        return summary

    async def _preview(self, event: Mapping[str, Any]) -> tool_view.ToolView:
        """What the approval in ``event`` would do, its files read off the event loop."""
        call_id = event.get("toolCallId")
        summary = self._summary(call_id, event) if isinstance(call_id, str) else ""
        folder = self._task_folder
        try:
            view = await asyncio.wait_for(
                _in_daemon_thread(lambda: tool_view.preview(event, self._cwd, folder)),
                PREVIEW_TIMEOUT,
            )
        except asyncio.TimeoutError:
            return tool_view.ToolView(summary or "use a tool", ("(its files could not be read)",))
        return tool_view.ToolView(summary or view.summary, view.details, view.diff)

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

    # -- progress -----------------------------------------------------------------------------

    def _show_progress(self) -> None:
        """Spin while the model or a tool works; not over a question, an open line or a pager."""
        spinner = self._spinner
        if spinner is None:
            return
        # Output is held while a question or a pager waits; a question due is queued or locked.
        quiet = self._turn_over or self._open_line or self._held is not None
        if quiet or self._questions or self._asking.locked():
            spinner.hide()
        elif self._running:
            spinner.show(next(reversed(self._running.values())))
        else:
            spinner.show("thinking" if self._thinking else "working")

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

    def _release_held(self) -> list[str]:
        """Stop holding output (see ``_question``); what was held, for the caller to write."""
        held, self._held = self._held or [], None
        return held

    def _write(self, text: str) -> None:
        if not text:
            return
        if self._held is not None:
            self._held.append(text)
            return
        if self._spinner is not None:
            self._spinner.hide()
        try:
            self._out.write(text)
        except UnicodeEncodeError:  # a terminal that cannot show every character
            encoding = self._out.encoding or "ascii"
            self._out.write(text.encode(encoding, "replace").decode(encoding))
        self._out.flush()


def _usage(usage: Any, *, so_far: bool) -> list[str]:
    """What a turn cost, as Cline recorded it (``turnEnd.usage``): ``1,240 tokens in, 56 out``
    and ``$0.0031`` (a cost of 0 is left out: Cline records 0 for a model it has no price of)."""
    if not isinstance(usage, Mapping):
        return []
    tokens_in, tokens_out = _count(usage.get("inputTokens")), _count(usage.get("outputTokens"))
    parts = []
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0:,} tokens in, {tokens_out or 0:,} out")
    cost = usage.get("cost")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
        parts.append(f"${cost:.4f}" if cost < 1 else f"${cost:.2f}")
    if parts and so_far:
        parts[-1] += " (task so far)"
    return parts


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def _in_daemon_thread(work: Callable[[], _T]) -> _T:
    """``work()``'s result, computed in a daemon thread: a read that hangs (a dead network
    drive) never holds up the event loop, nor the exit, as the default executor's would."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[_T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not result.done():
            outcome()

    def run() -> None:
        try:
            value = work()
        except BaseException as error:  # handed to the awaiting task
            failure = error
            _call_soon(loop, settle, lambda: result.set_exception(failure))
        else:
            _call_soon(loop, settle, lambda: result.set_result(value))

    threading.Thread(target=run, name="cline-bridge-preview", daemon=True).start()
    return await result


def _call_soon(loop: asyncio.AbstractEventLoop, *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(*args)


def _is_the_end(error: Mapping[str, Any]) -> bool:
    """Whether an ``error`` event ends the task for its followers: the task failed, or no more
    events will come for it (``final``: the editor host cannot read Cline's records any more)."""
    return error.get("state") == "failed" or error.get("final") is True


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
