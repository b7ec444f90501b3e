"""The terminal a followed task is printed on: whether it takes colour, its styles, its spinner.

A few lines of ANSI rather than a library: ``task --follow`` is a one-shot command whose start-up
counts, and it needs eight styles and one line that redraws itself. Colour follows the usual
conventions, in this order: ``--color always|never``; ``NO_COLOR`` (any non-empty value: none);
``FORCE_COLOR`` (non-empty and not ``0``: colour even into a pipe); else colour on a terminal whose
``TERM`` is not ``dumb``. The spinner needs a terminal whatever the colour: it is never written
into a pipe or a file.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from cline_bridge.cli.screen import terminal_size

COLOR_CHOICES = ("auto", "always", "never")

SPINNER_INTERVAL = 0.1
"""Seconds between two frames of the spinner."""

_COMMAND_NOT_FOUND = 127
"""What a shell exits with when it cannot find the command (a ``$PAGER`` that is not there)."""
_RESET = "\x1b[0m"
_CLEAR_LINE = "\r\x1b[K"
_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
    "bold_red": "1;31",
    "bold_green": "1;32",
}


def wants_color(choice: str, stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to colour what goes to ``stream``, for ``--color choice`` (see the module)."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    return is_terminal(stream) and environ.get("TERM") != "dumb"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # not a real stream, or closed
        return False


@dataclass(frozen=True)
class Style:
    """Wraps text in ANSI styles, or leaves it as it is (``color=False``)."""

    color: bool

    def paint(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}{_RESET}"

    def diff_line(self, line: str) -> str:
        """One line of a unified diff, coloured as ``git diff`` colours it."""
        if line.startswith(("+++ ", "--- ")):
            return self.paint(line, "bold")
        if line.startswith("@@"):
            return self.paint(line, "cyan")
        if line.startswith("+"):
            return self.paint(line, "green")
        if line.startswith("-"):
            return self.paint(line, "red")
        return line


@dataclass(frozen=True)
class Symbols:
    """The marks of a followed task: Unicode where the stream can encode it, else ASCII."""

    pending: str
    running: str
    done: str
    failed: str
    ask: str
    ellipsis: str
    rule: str
    separator: str
    frames: str

    @classmethod
    def for_stream(cls, stream: TextIO) -> Symbols:
        unicode = cls(
            pending="\u00b7",  # ·
            running="\u2699",  # ⚙
            done="\u2713",  # ✓
            failed="\u2717",  # ✗
            ask="?",
            ellipsis="\u2026",  # …
            rule="\u2500",  # ─
            separator=" \u00b7 ",  # ·
            frames="\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f",  # braille dots
        )
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "".join(str(value) for value in unicode.__dict__.values()).encode(encoding)
        except (UnicodeEncodeError, LookupError):
            return cls("-", "*", "+", "x", "?", "...", "-", ", ", "|/-\\")
        return unicode


class Spinner:
    """One line that says the task is working, redrawn in place with the time it has taken.

    ``show(label)`` starts it (or changes its label, keeping the clock when the label is the same
    activity); ``hide()`` clears the line before anything else is written, and the next ``show``
    draws it again. Only for a terminal: the caller creates none for a pipe or a file.
    """

    def __init__(self, stream: TextIO, style: Style, frames: str) -> None:
        self._stream = stream
        self._style = style
        self._frames = frames
        self._label = ""
        self._since = 0.0
        self._drawn = False
        self._ticker: asyncio.Task[None] | None = None

    def show(self, label: str) -> None:
        """Spin with ``label``; its clock starts when the label changes and runs on across
        ``hide`` and ``show`` of the same label."""
        if label != self._label:
            self._label = label
            self._since = time.monotonic()
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick())
        self._draw()

    def hide(self) -> None:
        """Stop spinning and clear the line, so that what is written next starts it."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._drawn:
            self._write(_CLEAR_LINE)
            self._drawn = False

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(SPINNER_INTERVAL)
            self._draw()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self._since
        frame = self._frames[int(elapsed / SPINNER_INTERVAL) % len(self._frames)]
        room = max(10, terminal_size().columns - 12)  # a wrapped line cannot be redrawn
        label = self._label if len(self._label) <= room else self._label[: room - 3] + "..."
        text = f"{frame} {label} {format_seconds(elapsed)}"
        self._write(_CLEAR_LINE + self._style.paint(text, "dim"))
        self._drawn = True

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the task's output says so
            pass


def format_seconds(seconds: float) -> str:
    """``0.4s``, ``12s``, ``3m05s``: a duration as a person reads it."""
    if seconds < 9.95:  # not 10.0s: that is 10s
        return f"{seconds:.1f}s"
    if seconds < 59.5:  # not 60s: that is 1m00s
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


async def page(text: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Show ``text`` in the person's pager (``$PAGER``, else ``less``, else ``more``) on this
    terminal and wait until they leave it; False when there is no pager to run.

    As git does, ``LESS`` defaults to ``FRX``: colours pass through, and a text that fits the
    screen is printed without taking it over.
    """
    import shutil  # only when a person asks for the whole diff

    command = environ.get("PAGER") or ("less" if shutil.which("less") else "")
    if not command and shutil.which("more"):
        command = "more"
    if not command:
        return False
    env = {**environ, "LESS": environ.get("LESS") or "FRX"}
    process = await asyncio.create_subprocess_shell(command, stdin=asyncio.subprocess.PIPE, env=env)
    try:
        await process.communicate(text.encode("utf-8", errors="replace"))
    except (BrokenPipeError, ConnectionResetError):  # left before reading it all
        await process.wait()
    return process.returncode != _COMMAND_NOT_FOUND
