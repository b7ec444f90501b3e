"""Answers to approval questions: the lines a person types, or a script pipes, into stdin."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import stat
import threading
from typing import Protocol


class LineSource(Protocol):
    """Where answers to approval questions come from."""

    @property
    def echo(self) -> bool:
        """Whether to print the answer read: the terminal did not show it (piped input)."""
        ...

    async def readline(self) -> str | None:
        """The next line, without its newline; None at the end of the input."""
        ...


class StdinLines:
    """Lines typed or piped into a file descriptor, read by a daemon thread when asked for.

    Waiting for an answer then never blocks the event loop, and a question left unanswered never
    blocks the exit (the thread blocks in ``os.read``, which holds no interpreter lock). The
    thread reads only while a question waits for its answer, so that a pager started between
    two questions has the terminal's keys to itself. On a terminal, what was typed before a
    question is dropped: it was not its answer.
    """

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self.tty = os.isatty(fd)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._complete: list[str] = []
        self._ended = False
        self._wanted = threading.Semaphore(0)
        self._reader: threading.Thread | None = None
        self._delivery: asyncio.Future[str | None] | None = None

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
        loop = asyncio.get_running_loop()
        delivery = self._delivery
        if delivery is not None and delivery.done() and not self.tty:
            # The line read for a withdrawn question, and not taken: it answers this one (on a
            # terminal, it was typed before this question, and is dropped).
            self._delivery = None
            return delivery.result()
        if delivery is None or delivery.done():
            # No read under way (one left by a withdrawn question goes on: its line answers
            # this one).
            if self.tty:
                _drop_typeahead(self.fd)
                self._complete.clear()
            delivery = self._delivery = loop.create_future()
            if self._reader is None:
                self._reader = threading.Thread(
                    target=self._serve, args=(loop,), name="cline-bridge-stdin", daemon=True
                )
                self._reader.start()
            self._wanted.release()
        line = await asyncio.shield(delivery)
        self._delivery = None  # taken
        return line

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            self._wanted.acquire()
            line = self._next_line()
            try:
                loop.call_soon_threadsafe(self._deliver, line)
            except RuntimeError:  # the loop is closed: nobody is asking any more
                return

    def _deliver(self, line: str | None) -> None:
        if self._delivery is not None and not self._delivery.done():
            self._delivery.set_result(line)

    def _next_line(self) -> str | None:
        """The next whole line (the last one may lack its newline); None at the end."""
        while not self._complete and not self._ended:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            self._partial += self._decoder.decode(chunk, final=not chunk)
            *complete, self._partial = self._partial.split("\n")
            self._complete += [line.rstrip("\r") for line in complete]
            if not chunk:
                if self._partial:
                    self._complete.append(self._partial)
                self._ended = True
        return self._complete.pop(0) if self._complete else None


def _drop_typeahead(fd: int) -> None:
    """Discard what was typed on terminal ``fd`` and not read yet (POSIX terminals only)."""
    try:
        import termios
    except ImportError:  # Windows: what was typed ahead stays
        return
    with contextlib.suppress(OSError, termios.error):
        termios.tcflush(fd, termios.TCIFLUSH)
