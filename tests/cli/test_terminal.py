"""The terminal a followed task is printed on: colour, styles, symbols, the spinner, the pager and
the size (``cline_bridge.cli.terminal`` and ``cline_bridge.cli.screen``)."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import shlex
import shutil
import struct
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TextIO, cast

import pytest

from cline_bridge.cli import terminal
from cline_bridge.cli.screen import terminal_size
from cline_bridge.cli.terminal import (
    Spinner,
    Style,
    Symbols,
    format_seconds,
    is_terminal,
    page,
    wants_color,
)

TIMEOUT = 10
CLEAR = "\r\x1b[K"


@pytest.fixture
def tty() -> Iterator[TextIO]:
    """A text stream on the terminal side of a new pseudo-terminal, 100 columns by 30 lines."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        with open(slave, "w", encoding="utf-8", closefd=False) as stream:
            yield stream
    finally:
        os.close(slave)
        os.close(master)


# -- colour -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "environ", "on_tty", "expected"),
    [
        ("always", {}, False, True),
        ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
        ("never", {}, True, False),
        ("never", {"FORCE_COLOR": "1"}, True, False),
        ("auto", {}, True, True),
        ("auto", {"TERM": "xterm-256color"}, True, True),
        ("auto", {}, False, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),
        ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "3", "TERM": "dumb"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, False, False),
        ("auto", {"FORCE_COLOR": ""}, False, False),
        ("auto", {"FORCE_COLOR": "0"}, True, True),
        ("auto", {"FORCE_COLOR": ""}, True, True),
    ],
)
def test_colour_follows_the_flag_then_the_environment_then_the_terminal(
    tty: TextIO, choice: str, environ: dict[str, str], on_tty: bool, expected: bool
) -> None:
    stream = tty if on_tty else io.StringIO()

    assert wants_color(choice, stream, environ) is expected


def test_only_an_open_terminal_is_a_terminal(tty: TextIO) -> None:
    closed = io.StringIO()
    closed.close()

    assert is_terminal(tty)
    assert not is_terminal(io.StringIO())
    assert not is_terminal(closed)
    assert not is_terminal(cast(TextIO, object()))


# -- styles and symbols ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "code"),
    [("bold", "1"), ("dim", "2"), ("red", "31"), ("green", "32"), ("bold_red", "1;31")],
)
def test_paint_wraps_text_in_its_style_only_with_colour(style: str, code: str) -> None:
    assert Style(color=True).paint("text", style) == f"\x1b[{code}mtext\x1b[0m"
    assert Style(color=False).paint("text", style) == "text"
    assert Style(color=True).paint("", style) == ""


@pytest.mark.parametrize(
    ("line", "painted"),
    [
        ("--- a.txt", "\x1b[1m--- a.txt\x1b[0m"),
        ("+++ /dev/null", "\x1b[1m+++ /dev/null\x1b[0m"),
        ("@@ -1,3 +1,4 @@", "\x1b[36m@@ -1,3 +1,4 @@\x1b[0m"),
        ("+added", "\x1b[32m+added\x1b[0m"),
        ("+++added", "\x1b[32m+++added\x1b[0m"),
        ("-removed", "\x1b[31m-removed\x1b[0m"),
        ("---", "\x1b[31m---\x1b[0m"),
        (" context", " context"),
        ("(a note)", "(a note)"),
        ("", ""),
    ],
)
def test_diff_lines_are_coloured_as_git_colours_them(line: str, painted: str) -> None:
    assert Style(color=True).diff_line(line) == painted
    assert Style(color=False).diff_line(line) == line


def stream_in(encoding: str) -> TextIO:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


def test_symbols_are_unicode_where_the_stream_can_encode_them() -> None:
    symbols = Symbols.for_stream(stream_in("utf-8"))

    assert (symbols.done, symbols.failed, symbols.ellipsis) == ("\u2713", "\u2717", "\u2026")
    assert len(symbols.frames) == 10


@pytest.mark.parametrize(
    "stream",
    [
        stream_in("ascii"),
        stream_in("latin-1"),
        io.StringIO(),  # no encoding: assume the least
        cast(TextIO, SimpleNamespace(encoding="no-such-codec")),
    ],
    ids=["ascii", "latin-1", "no encoding", "unknown encoding"],
)
def test_symbols_fall_back_to_ascii(stream: TextIO) -> None:
    symbols = Symbols.for_stream(stream)

    assert (symbols.done, symbols.failed, symbols.ellipsis, symbols.frames) == (
        "+",
        "x",
        "...",
        "|/-\\",
    )
    assert "".join(vars(symbols).values()).isascii()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.0s"),
        (0.44, "0.4s"),
        (9.9, "9.9s"),
        (9.97, "10s"),
        (10, "10s"),
        (12.4, "12s"),
        (59.4, "59s"),
        (59.7, "1m00s"),
        (60, "1m00s"),
        (185, "3m05s"),
        (3725, "62m05s"),
    ],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


# -- the size ----------------------------------------------------------------------------------


@pytest.fixture
def no_size(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Neither ``$COLUMNS`` nor ``$LINES``, and a stdout that is not a terminal."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())
    return monkeypatch


def test_the_size_is_the_environment_s_first(no_size: pytest.MonkeyPatch, tty: TextIO) -> None:
    no_size.setattr(sys, "__stdout__", tty)
    no_size.setenv("COLUMNS", "123")
    no_size.setenv("LINES", "45")

    assert tuple(terminal_size()) == (123, 45)


def test_the_size_is_the_terminal_s_where_the_environment_says_nothing(
    no_size: pytest.MonkeyPatch, tty: TextIO
) -> None:
    no_size.setattr(sys, "__stdout__", tty)

    assert tuple(terminal_size()) == (100, 30)
    no_size.setenv("COLUMNS", "50")
    assert tuple(terminal_size()) == (50, 30)


@pytest.mark.parametrize(
    ("columns", "lines"), [(None, None), ("abc", ""), ("0", "-4"), ("-1", "x")]
)
def test_the_size_falls_back_without_a_terminal_or_a_valid_environment(
    no_size: pytest.MonkeyPatch, columns: str | None, lines: str | None
) -> None:
    for name, value in (("COLUMNS", columns), ("LINES", lines)):
        if value is not None:
            no_size.setenv(name, value)

    assert tuple(terminal_size()) == (80, 24)
    assert tuple(terminal_size((132, 50))) == (132, 50)
    no_size.setattr(sys, "__stdout__", None)
    assert tuple(terminal_size()) == (80, 24)
    no_size.setenv("LINES", "60")
    assert tuple(terminal_size()) == (80, 60)


# -- the spinner -------------------------------------------------------------------------------


class Clock:
    """``time.monotonic`` as the spinner sees it, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(terminal, "time", clock)
    monkeypatch.setenv("COLUMNS", "80")
    return clock


def draws(out: io.StringIO) -> list[str]:
    """What each redraw of the line said (an empty string for a cleared line)."""
    return out.getvalue().split(CLEAR)[1:]


async def until(condition: Callable[[], bool]) -> None:
    """Wait (at most ``TIMEOUT``) until ``condition()`` holds."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - nothing here sets an event
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), TIMEOUT)


async def test_the_spinner_draws_its_label_and_the_time_since_it_started(clock: Clock) -> None:
    out = io.StringIO()
    spinner = Spinner(out, Style(color=False), "ab")
    try:
        spinner.show("Thinking")
        first = out.getvalue()
        clock.now += 0.31
        await until(lambda: len(draws(out)) > 1)
    finally:
        spinner.hide()

    assert first == f"{CLEAR}a Thinking 0.0s"
    assert "b Thinking 0.3s" in draws(out)  # frame 3 of "ab"
    assert set(draws(out)[1:-1]) == {"b Thinking 0.3s"}
    assert out.getvalue().endswith(CLEAR)


async def test_the_spinner_keeps_its_clock_for_the_same_label_only(clock: Clock) -> None:
    out = io.StringIO()
    spinner = Spinner(out, Style(color=False), "-")
    try:
        spinner.show("Running pytest")
        clock.now += 5
        spinner.show("Running pytest")
        spinner.hide()
        clock.now += 2
        spinner.show("Running pytest")
        spinner.show("Thinking")
        clock.now += 1.5
        spinner.show("Thinking")
    finally:
        spinner.hide()

    assert [draw for draw in draws(out) if draw] == [
        "- Running pytest 0.0s",
        "- Running pytest 5.0s",
        "- Running pytest 7.0s",
        "- Thinking 0.0s",
        "- Thinking 1.5s",
    ]


async def test_hiding_clears_the_line_and_stops_the_spinner(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terminal, "SPINNER_INTERVAL", 0.01)
    out = io.StringIO()
    spinner = Spinner(out, Style(color=False), "ab")
    spinner.hide()  # nothing drawn: nothing to clear
    assert out.getvalue() == ""
    try:
        spinner.show("Thinking")
        await until(lambda: len(draws(out)) >= 3)  # it ticks
    finally:
        spinner.hide()
    hidden = out.getvalue()

    await asyncio.sleep(10 * terminal.SPINNER_INTERVAL)
    spinner.hide()

    assert hidden.endswith(f"Thinking 0.0s{CLEAR}")
    assert out.getvalue() == hidden


async def test_a_label_wider_than_the_terminal_is_cut(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    out = io.StringIO()
    spinner = Spinner(out, Style(color=True), "-")
    try:
        spinner.show("x" * 28)
        spinner.show("y" * 29)
    finally:
        spinner.hide()

    assert draws(out)[:2] == [
        f"\x1b[2m- {'x' * 28} 0.0s\x1b[0m",
        f"\x1b[2m- {'y' * 25}... 0.0s\x1b[0m",
    ]


async def test_a_spinner_on_a_terminal_that_went_away_says_nothing(clock: Clock) -> None:
    out = io.StringIO()
    spinner = Spinner(out, Style(color=False), "-")
    out.close()

    spinner.show("Thinking")
    spinner.hide()
    spinner.show("Thinking")
    spinner.hide()

    assert out.closed


# -- the pager ---------------------------------------------------------------------------------


def recorder(tmp_path: Path) -> str:
    """A pager that saves what it is given, and ``$LESS``, into ``tmp_path``."""
    paged, less = shlex.quote(str(tmp_path / "paged")), shlex.quote(str(tmp_path / "less"))
    return f'cat > {paged}; printf %s "$LESS" > {less}'


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_the_pager_gets_the_text_and_less_defaults_to_frx(tmp_path: Path) -> None:
    text = "\x1b[32m+caf\u00e9\x1b[0m\n" * 3
    environ = {"PATH": os.environ["PATH"], "PAGER": recorder(tmp_path)}

    shown = await asyncio.wait_for(page(text, environ), TIMEOUT)

    assert shown
    assert (read(tmp_path / "paged"), read(tmp_path / "less")) == (text, "FRX")


async def test_the_pager_keeps_the_person_s_less_options(tmp_path: Path) -> None:
    environ = {"PATH": os.environ["PATH"], "PAGER": recorder(tmp_path), "LESS": "-R"}

    assert await asyncio.wait_for(page("x\n", environ), TIMEOUT)
    assert read(tmp_path / "less") == "-R"


async def test_a_pager_that_stops_reading_early_is_fine() -> None:
    environ = {"PATH": os.environ["PATH"], "PAGER": "exit 0"}

    assert await asyncio.wait_for(page("line\n" * 200_000, environ), TIMEOUT)


async def test_a_missing_pager_command_is_no_pager() -> None:
    environ = {"PATH": os.environ["PATH"], "PAGER": "/nonexistent/pager 2>/dev/null"}

    assert not await asyncio.wait_for(page("x\n", environ), TIMEOUT)


def install(tmp_path: Path, names: list[str]) -> Path:
    """A folder ``bin`` of executables that each save their input into ``tmp_path/<name>``."""
    cat = shutil.which("cat")
    assert cat is not None
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in names:
        script = folder / name
        script.write_text(f"#!/bin/sh\nexec {cat} > {shlex.quote(str(tmp_path / name))}\n")
        script.chmod(0o755)
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("installed", [["less", "more"], ["more"]])
async def test_without_pager_less_then_more_is_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: list[str]
) -> None:
    folder = install(tmp_path, installed)
    monkeypatch.setenv("PATH", str(folder))

    shown = await asyncio.wait_for(page("x\n", {"PATH": str(folder)}), TIMEOUT)

    assert shown
    assert listing(tmp_path) == sorted(["bin", installed[0]])


async def test_without_any_pager_there_is_nothing_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert not await asyncio.wait_for(page("x\n", {"PAGER": ""}), TIMEOUT)
