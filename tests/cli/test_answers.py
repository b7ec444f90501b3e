"""Answers to approval questions, read from a pipe or a terminal (``cline_bridge.cli.answers``).

Each test runs its questions in an event loop of its own (``asyncio.run``): once that loop is
closed, the reader thread of ``StdinLines`` can be let go and joined.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from cline_bridge.cli.answers import StdinLines

TIMEOUT = 10
SETTLE = 0.2
"""Seconds given to a reader thread that must not read: it would have by then."""

T = TypeVar("T")


@dataclass
class Keyboard:
    """The far end of the descriptor ``lines`` reads: a pipe's write end, or a terminal's
    master side."""

    lines: StdinLines
    writer: int

    def type(self, data: str | bytes) -> None:
        os.write(self.writer, data.encode() if isinstance(data, str) else data)

    def end(self) -> None:
        if self.writer != -1:
            os.close(self.writer)
            self.writer = -1

    def pending(self) -> bool:
        """Whether what was typed waits, unread, in the descriptor ``lines`` reads."""
        return bool(select.select([self.lines.fd], [], [], 0)[0])

    def ask(self, scenario: Callable[[StdinLines], Awaitable[T]]) -> T:
        """Run ``scenario(lines)`` in an event loop of its own, at most ``TIMEOUT`` seconds."""
        return asyncio.run(asyncio.wait_for(scenario(self.lines), TIMEOUT))


@contextlib.contextmanager
def answered(reader: int, writer: int) -> Iterator[Keyboard]:
    keyboard = Keyboard(StdinLines(reader), writer)
    try:
        yield keyboard
    finally:
        keyboard.end()  # a read under way ends, with nobody to give its line to
        thread = keyboard.lines._reader
        if thread is not None:  # one more read: at the end, it finds the loop closed
            keyboard.lines._wanted.release()
            thread.join(TIMEOUT)
        os.close(reader)
    assert thread is None or not thread.is_alive()


@pytest.fixture
def piped() -> Iterator[Keyboard]:
    read, write = os.pipe()
    with answered(read, write) as keyboard:
        yield keyboard


@pytest.fixture
def typed() -> Iterator[Keyboard]:
    master, slave = os.openpty()
    with answered(slave, master) as keyboard:
        yield keyboard


async def readlines(lines: StdinLines, count: int) -> list[str | None]:
    return [await lines.readline() for _ in range(count)]


async def withdraw(lines: StdinLines) -> None:
    """Ask, then withdraw the question (its approval was answered elsewhere)."""
    question = asyncio.ensure_future(lines.readline())
    await asyncio.sleep(0)  # the question asks for a line
    question.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await question
    assert question.cancelled()


async def until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - a file descriptor sets no event
        await asyncio.sleep(0.005)


# -- a pipe ------------------------------------------------------------------------------------


def test_a_pipe_s_lines_are_split_and_its_end_stays(piped: Keyboard) -> None:
    piped.type("y\r\nno\n\nlast without newline")
    piped.end()

    got = piped.ask(lambda lines: readlines(lines, 6))

    assert got == ["y", "no", "", "last without newline", None, None]
    assert (piped.lines.echo, StdinLines.can_ask(piped.lines.fd)) == (True, True)


def test_a_line_may_come_in_pieces_split_inside_a_character(piped: Keyboard) -> None:
    cafe = "caf\u00e9\n".encode()

    async def scenario(lines: StdinLines) -> list[object]:
        piped.type(b"first\n" + cafe[:4])
        first = await lines.readline()
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(SETTLE)
        half_a_line = question.done()
        piped.type(cafe[4:] + b"bad \xff\n")
        return [first, half_a_line, await question, await lines.readline()]

    assert piped.ask(scenario) == ["first", False, "caf\u00e9", "bad \ufffd"]


def test_a_pipe_is_read_only_while_a_question_waits(piped: Keyboard) -> None:
    async def scenario(lines: StdinLines) -> list[object]:
        piped.type("first\n")
        first = await lines.readline()
        piped.type("second\n")
        await asyncio.sleep(SETTLE)
        unread = piped.pending()
        second = await lines.readline()
        return [first, unread, second, piped.pending()]

    assert piped.ask(scenario) == ["first", True, "second", False]


@pytest.mark.parametrize("arrives", ["before the next question", "while it waits"])
def test_the_line_read_for_a_withdrawn_question_answers_the_next(
    piped: Keyboard, arrives: str
) -> None:
    async def scenario(lines: StdinLines) -> list[str | None]:
        await withdraw(lines)
        if arrives == "before the next question":
            piped.type("a\nb\n")
            await until(lambda: not piped.pending())  # read for the withdrawn question
            await asyncio.sleep(SETTLE)  # and given to it
            return await readlines(lines, 2)
        question = asyncio.ensure_future(readlines(lines, 2))
        await asyncio.sleep(0)
        piped.type("a\nb\n")
        return await question

    assert piped.ask(scenario) == ["a", "b"]


def test_a_withdrawn_question_at_the_end_of_input_leaves_the_end(piped: Keyboard) -> None:
    async def scenario(lines: StdinLines) -> list[str | None]:
        await withdraw(lines)
        piped.end()
        return await readlines(lines, 2)

    assert piped.ask(scenario) == [None, None]


# -- a terminal --------------------------------------------------------------------------------


def test_a_terminal_echoes_its_answers_itself(typed: Keyboard) -> None:
    assert typed.lines.tty
    assert not typed.lines.echo
    assert StdinLines.can_ask(typed.lines.fd)


def test_what_was_typed_before_the_question_is_not_its_answer(typed: Keyboard) -> None:
    async def scenario(lines: StdinLines) -> list[object]:
        typed.type("old\n")
        await until(typed.pending)
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(0)  # asked: what waits is dropped
        typed.type("new\n")
        return [await question, typed.pending()]

    assert typed.ask(scenario) == ["new", False]


def test_lines_typed_beyond_an_answer_do_not_answer_the_next_question(typed: Keyboard) -> None:
    async def scenario(lines: StdinLines) -> list[str | None]:
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(0)
        typed.type("one\ntwo\n")
        first = await question
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(0)
        typed.type("three\n")
        return [first, await question]

    assert typed.ask(scenario) == ["one", "three"]


def test_on_a_terminal_a_line_typed_with_no_question_shown_is_dropped(typed: Keyboard) -> None:
    async def scenario(lines: StdinLines) -> list[str | None]:
        await withdraw(lines)
        typed.type("late\n")
        await until(lambda: not typed.pending())  # read for the withdrawn question
        await asyncio.sleep(SETTLE)
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(0)
        typed.type("next\n")
        return [await question]

    assert typed.ask(scenario) == ["next"]


def test_on_a_terminal_the_read_of_a_withdrawn_question_answers_the_next(
    typed: Keyboard,
) -> None:
    async def scenario(lines: StdinLines) -> str | None:
        await withdraw(lines)
        question = asyncio.ensure_future(lines.readline())
        await asyncio.sleep(0)
        typed.type("y\n")
        return await question

    assert typed.ask(scenario) == "y"


def test_a_closed_terminal_is_the_end_of_input(typed: Keyboard) -> None:
    typed.end()

    assert typed.ask(lambda lines: readlines(lines, 2)) == [None, None]


# -- who can answer ----------------------------------------------------------------------------


def test_a_terminal_a_pipe_or_a_socket_can_be_asked() -> None:
    master, slave = os.openpty()
    read, write = os.pipe()
    one, other = socket.socketpair()
    try:
        askable = [StdinLines.can_ask(fd) for fd in (slave, read, write, one.fileno())]
    finally:
        for fd in (master, slave, read, write):
            os.close(fd)
        one.close()
        other.close()

    assert askable == [True, True, True, True]
