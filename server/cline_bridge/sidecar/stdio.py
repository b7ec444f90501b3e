"""Serving LSP on stdin and stdout, with an event loop that neither ever blocks on.

pygls's stdio server reads every header line and every body in its thread pool (three thread hops
per message) and writes stdout synchronously. So the sidecar reads stdin itself: on the event loop
where stdin is a pipe or a socket, which is how editors start a language server, on a thread of
its own anywhere else (a terminal, a file, Windows) (``incoming``). Each body goes to the
protocol's ``receive``, which answers what is malformed and hands the rest to pygls's message
handling. Writes go through an ``Outbox``: queued, never blocking, bounded (``outbox``). Log
records reach stderr through one too, since an editor that stops reading stdout has usually
stopped reading stderr as well.

The exit status: 0 after ``shutdown`` and ``exit``, or when stdin closes; 1 for ``exit`` without
``shutdown`` (LSP); ``EXIT_BROKEN_INPUT`` when stdin's framing cannot be put back in step.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from typing import TYPE_CHECKING, BinaryIO, TextIO

from cline_bridge.sidecar.incoming import StdinFrames, read_stdin
from cline_bridge.sidecar.outbox import (
    EXIT_FLUSH_TIMEOUT,
    STDERR_LIMITS,
    Outbox,
    PipeOutbox,
    ThreadOutbox,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from cline_bridge.sidecar.server import BridgeServer

logger = logging.getLogger(__name__)

EXIT_BROKEN_INPUT = 76
"""The exit status when the editor's input cannot be read any more (sysexits' EX_PROTOCOL), so
that the editor restarts the sidecar."""
EDITOR = "editor"
"""Who reads stdout, as the log names it."""


def is_pipe(stream: BinaryIO) -> bool:
    """Whether ``stream`` is a pipe or a socket the event loop can watch."""
    if sys.platform == "win32":
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def can_serve_with_pipe_reader(stdin: BinaryIO) -> bool:
    return is_pipe(stdin)


def serve_stdio(server: BridgeServer) -> int:
    """Serve ``server`` on this process's stdin and stdout until ``exit``, the end of input, or
    input that cannot be read; return the exit status."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stderr_log = StderrLog.install()
    try:
        return asyncio.run(_serve(server, stdin, stdout))
    except SystemExit as exit:  # pygls's exit handler ends the loop with sys.exit
        return exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
        if stderr_log is not None:
            stderr_log.uninstall()


async def _serve(server: BridgeServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    stop_reading: list[Callable[[], None]] = []

    def lost(error: OSError) -> None:
        logger.error("the connection to the editor is lost (%s); stopping", error)
        for stop in stop_reading:
            stop()

    outbox = open_outbox(stdout, lost)
    server.protocol.use_outbox(outbox)
    frames = StdinFrames(server.protocol.receive)
    done, stop = await read_stdin(stdin, frames, use_pipe=can_serve_with_pipe_reader(stdin))
    stop_reading.append(stop)
    broken = await done
    status = 0
    if broken is not None:
        logger.error(
            "stdin: %s; exiting with status %d so that the editor restarts the sidecar",
            broken,
            EXIT_BROKEN_INPUT,
        )
        status = EXIT_BROKEN_INPUT
    await outbox.aclose()
    return status


def open_outbox(stdout: BinaryIO, on_lost: Callable[[OSError], None]) -> Outbox:
    """The outbox to the editor: written from the loop where stdout is a pipe or a socket of its
    own, by a thread otherwise (a terminal, a file, Windows, or a pipe shared with stderr, which
    must stay blocking)."""
    if is_pipe(stdout) and not _shared_with_stderr(stdout):
        return PipeOutbox(stdout.fileno(), EDITOR, on_lost=on_lost)
    return ThreadOutbox(stdout, EDITOR, on_lost=on_lost)


def _shared_with_stderr(stream: BinaryIO) -> bool:
    try:
        return os.path.sameopenfile(stream.fileno(), sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False


class StderrLog:
    """The stream of the log handlers that write to stderr, through a ``ThreadOutbox``: a record
    never blocks the loop, even when nobody reads stderr. Lines beyond ``STDERR_LIMITS`` are
    dropped (and counted in the log once stderr is read again)."""

    def __init__(self, stderr: TextIO, handlers: list[logging.StreamHandler[TextIO]]) -> None:
        self._stderr = stderr
        self._handlers = handlers
        self._outbox = ThreadOutbox(stderr.buffer, "stderr reader", STDERR_LIMITS)

    @classmethod
    def install(cls) -> StderrLog | None:
        """Put it under every root handler writing to ``sys.stderr``; None if there is none."""
        stderr = sys.stderr
        handlers = [
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler) and handler.stream is stderr
        ]
        if not handlers or not hasattr(stderr, "buffer"):
            return None
        log = cls(stderr, handlers)
        for handler in handlers:
            handler.setStream(log)
        return log

    def write(self, text: str) -> int:
        if self._outbox.closed:
            return self._stderr.write(text)
        self._outbox.send(text.encode(errors="backslashreplace"))
        return len(text)

    def flush(self) -> None:
        """Nothing to do: the writer thread flushes each line."""

    def uninstall(self) -> None:
        """Give the handlers ``sys.stderr`` back, once the lines waiting are written (at most
        ``EXIT_FLUSH_TIMEOUT`` seconds)."""
        for handler in self._handlers:
            handler.setStream(self._stderr)
        self._outbox.close_now(EXIT_FLUSH_TIMEOUT)
