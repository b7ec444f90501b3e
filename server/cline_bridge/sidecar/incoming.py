"""The editor's stdin: frames decoded with ``wire.framing``, broken ones skipped, or the stream
given up when it cannot be put back in step.

The editor's connection cannot be closed and reopened like a control client's: the sidecar lives
as long as it. So a frame the decoder refuses is logged and skipped (``FrameDecoder.recover``),
and reading goes on with the next frame. Only when that fails (frame after frame refused, or no
header found in a long run of bytes) is the stream given up (``BrokenInput``): the sidecar then
exits with a status of its own, so that the editor restarts it, rather than going silent.

Two readers feed it: ``PipeReader`` on the event loop for a pipe or a socket (how editors start a
language server), ``ThreadReader`` with blocking reads on a thread for anything else (a terminal,
a file, Windows).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import BinaryIO

from cline_bridge.wire.framing import READ_SIZE, FrameDecoder, FrameError

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024
"""The largest body read from the editor (as on a control connection after initialize): room
for a few images inline as data URLs. A bigger one is skipped, unread."""
MAX_SKIPPED_BODY = 4 * MAX_BODY
"""A body over the cap but within this is skipped by its length; a longer length is taken for a
broken header rather than a message, and the stream is given up."""
MAX_REFUSED_IN_A_ROW = 8
"""Frames refused one after the other, with no good one between, before the stream is given up."""
MAX_SEARCHED = 1024 * 1024
"""Bytes searched for the next header after a broken one before the stream is given up."""


class BrokenInput(Exception):
    """The editor's stream cannot be put back in step; the message says why."""


class StdinFrames:
    """Turns the editor's bytes into bodies for ``deliver``, skipping broken frames."""

    def __init__(self, deliver: Callable[[bytes], None]) -> None:
        self._deliver = deliver
        self._decoder = FrameDecoder(MAX_BODY, ignore_other_headers=True)
        self._refused_in_a_row = 0
        self._skipping = False

    def feed(self, data: bytes) -> None:
        """Deliver every body ``data`` completes. Raises ``BrokenInput``."""
        decoder = self._decoder
        decoder.feed(data)
        while True:
            try:
                body = decoder.next_body()
            except FrameError as error:
                self._refused(error)
                continue
            if body is None:
                if decoder.discarded > MAX_SEARCHED:
                    raise BrokenInput(
                        f"no frame header in {decoder.discarded} bytes after a broken frame"
                    )
                return
            if self._skipping:
                logger.warning("stdin: back in step with the editor")
                self._skipping = False
            self._refused_in_a_row = 0
            self._deliver(body)

    def finish(self) -> None:
        """The editor closed stdin: log it if that cut a frame short."""
        try:
            self._decoder.finish()
        except FrameError as error:
            logger.warning("stdin: %s", error)

    def _refused(self, error: FrameError) -> None:
        self._refused_in_a_row += 1
        if self._refused_in_a_row > MAX_REFUSED_IN_A_ROW:
            count = self._refused_in_a_row
            raise BrokenInput(f"{count} frames refused in a row; the last: {error}")
        skipped = self._decoder.recover()
        if skipped is not None and skipped > MAX_SKIPPED_BODY:
            raise BrokenInput(f"{error}: a length that large is a broken header, not a message")
        what = f"its body ({skipped} bytes)" if skipped is not None else "up to the next header"
        logger.error("stdin: frame refused: %s; skipping %s", error, what)
        self._skipping = True


class PipeReader(asyncio.Protocol):
    """Reads a pipe or a socket on the event loop (``loop.connect_read_pipe``)."""

    def __init__(self, frames: StdinFrames, done: asyncio.Future[BrokenInput | None]) -> None:
        """``done`` gets None at the end of input, or the ``BrokenInput`` that stopped reading."""
        self._frames = frames
        self._done = done
        self._transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._done.done():
            return
        try:
            self._frames.feed(data)
        except BrokenInput as error:
            self._end(error)

    def eof_received(self) -> bool | None:
        self._frames.finish()
        self._end(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(None)

    def stop(self) -> None:
        """Stop reading (the editor is gone on the other side)."""
        self._end(None)

    def _end(self, error: BrokenInput | None) -> None:
        if not self._done.done():
            self._done.set_result(error)
        if self._transport is not None:
            self._transport.close()


class ThreadReader:
    """Reads any binary stream with blocking reads on a thread of its own, and hands each chunk
    to the event loop, one at a time (the thread waits until the loop has taken it)."""

    def __init__(
        self, stream: BinaryIO, frames: StdinFrames, done: asyncio.Future[BrokenInput | None]
    ) -> None:
        self._stream = stream
        self._frames = frames
        self._done = done
        self._loop = asyncio.get_running_loop()
        self._taken = threading.Semaphore(0)
        # A daemon: a read blocked on a terminal must not keep the process alive at exit.
        self._thread = threading.Thread(target=self._run, name="stdin reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if not self._done.done():
            self._done.set_result(None)
        self._taken.release()

    def _run(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        while not self._done.done():
            try:
                data = read(READ_SIZE)
            except (OSError, ValueError):  # closed under us
                data = b""
            try:
                self._loop.call_soon_threadsafe(self._take, data)
            except RuntimeError:  # the loop is closed: the sidecar is exiting
                return
            if not data:
                return
            self._taken.acquire()

    def _take(self, data: bytes) -> None:
        try:
            if self._done.done():
                return
            if not data:
                self._frames.finish()
                self._done.set_result(None)
                return
            try:
                self._frames.feed(data)
            except BrokenInput as error:
                self._done.set_result(error)
        finally:
            self._taken.release()


async def read_stdin(
    stdin: BinaryIO, frames: StdinFrames, *, use_pipe: bool
) -> tuple[asyncio.Future[BrokenInput | None], Callable[[], None]]:
    """Start reading ``stdin`` into ``frames``; return the future that ends with the input (None,
    or the ``BrokenInput`` that stopped it) and a function that stops reading."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[BrokenInput | None] = loop.create_future()
    if use_pipe:
        reader = PipeReader(frames, done)
        await loop.connect_read_pipe(lambda: reader, stdin)
        return done, reader.stop
    thread = ThreadReader(stdin, frames, done)
    return done, thread.stop
