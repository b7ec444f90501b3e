"""Writing to a reader that may stop reading, without ever blocking the event loop.

pygls writes stdout synchronously: once the editor stops reading and the pipe is full (64 KiB on
Linux, a hundred log lines), the write blocks the event loop, and with it every control client,
timer and host request. An ``Outbox`` never blocks. What the pipe cannot take at once waits in a
queue, written as the reader takes it; ``PipeOutbox`` does so from the loop (the file descriptor is
made non-blocking), ``ThreadOutbox`` from a thread of its own, for what cannot be made
non-blocking (Windows, a terminal, a file) and for stderr, which the editor may stop reading too
and which the sidecar shares with its parent (so it must stay blocking).

The queue is bounded (``OutboxLimits``): past ``low_value_bytes`` waiting, low-value frames (log
messages) are dropped; past ``max_bytes``, every new frame. ``stall()`` says when the reader has
taken nothing for ``stalled_after`` seconds (or ``stalled_bytes`` wait), so that new work that
needs an answer from it fails at once instead of waiting for a timeout. Each drop is counted and
the episode logged once, at its start and at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

KIB = 1024


@dataclass(frozen=True)
class OutboxLimits:
    """How much may wait for the reader, and when it counts as stalled."""

    low_value_bytes: int = 256 * KIB
    """Past this many bytes waiting, low-value frames (log messages) are dropped."""
    stalled_bytes: int = 4 * KIB * KIB
    """This many bytes waiting: the reader is stalled, however recently it read."""
    stalled_after: float = 3.0
    """Seconds without the reader taking a byte, while bytes wait: the reader is stalled."""
    max_bytes: int = 16 * KIB * KIB
    """Past this many bytes waiting, every new frame is dropped (one bigger frame still goes out
    when nothing waits)."""


STDOUT_LIMITS = OutboxLimits()
STDERR_LIMITS = OutboxLimits(
    low_value_bytes=KIB * KIB, stalled_bytes=KIB * KIB, stalled_after=3.0, max_bytes=KIB * KIB
)
"""stderr carries only log lines: a mebibyte of them is plenty to keep for a slow reader."""
EXIT_FLUSH_TIMEOUT = 2.0
"""Seconds the sidecar waits at exit for the reader to take what is still queued."""


class Outbox:
    """Frames on their way to one reader: written at once when it keeps up, queued when it does
    not, dropped past the limits. The pygls writer interface (``write``, ``close``) included.

    ``send`` and ``stall`` are called on the event loop's thread (``ThreadOutbox.send`` from any).
    """

    def __init__(
        self,
        name: str,
        limits: OutboxLimits,
        *,
        on_lost: Callable[[OSError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``name`` says in the log who the reader is; ``on_lost`` is called once if writing
        fails for good (the reader closed its end)."""
        self.name = name
        self.limits = limits
        self._on_lost = on_lost
        self._clock = clock
        self._frames: deque[bytes | memoryview] = deque()
        self.pending = 0
        """Bytes accepted and not yet taken by the reader."""
        self._progress_at = clock()
        """When the reader last took bytes, or when bytes started waiting."""
        self.dropped_low_value = 0
        self.dropped = 0
        """Frames dropped in the current episode (reset once the reader has caught up)."""
        self.lost: OSError | None = None
        """Why writing stopped for good, once it has."""
        self.closed = False
        self._drained: list[asyncio.Future[None]] = []
        """``flush`` calls waiting for the queue to empty."""
        self._notes: list[tuple[str, tuple[Any, ...]]] = []
        """Log records to emit once no lock is held: a record may come back to an outbox (the
        log handlers write to stderr through one), and another thread may hold the handler's
        lock while it waits for ours."""

    # -- what the protocol asks ------------------------------------------------------------------

    def drops_low_value(self) -> bool:
        """Whether a low-value frame sent now would be dropped (so it need not be built)."""
        return self.lost is not None or self.pending >= self.limits.low_value_bytes

    def stall(self) -> str | None:
        """Why the reader counts as stalled now (new work that needs its answer should fail), or
        None while it keeps up."""
        if self.lost is not None:
            return f"the {self.name} is gone ({self.lost.strerror or self.lost})"
        if not self.pending:
            return None
        idle = self._clock() - self._progress_at
        if self.pending < self.limits.stalled_bytes and idle < self.limits.stalled_after:
            return None
        return (
            f"the {self.name} has not read the sidecar's output for {idle:.1f} s "
            f"({self.pending // KIB} KiB waiting)"
        )

    def send(self, frame: bytes, *, low_value: bool = False) -> bool:
        """Write ``frame`` now, or queue it; False if it was dropped (see ``OutboxLimits``)."""
        admitted = self._admit(frame, low_value)
        self._log_notes()
        return admitted

    def _admit(self, frame: bytes, low_value: bool) -> bool:
        if self.lost is not None or self.closed:
            return False
        if low_value and self.pending >= self.limits.low_value_bytes:
            self.dropped_low_value += 1
            if self.dropped_low_value == 1:
                self._dropping("log messages")
            return False
        if self.pending and self.pending + len(frame) > self.limits.max_bytes:
            self.dropped += 1
            if self.dropped == 1:
                self._dropping("every message")
            return False
        self._enqueue(frame)
        return True

    # -- the pygls writer interface ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.send(data)

    def close(self) -> asyncio.Future[None]:
        """Flush what waits (for at most ``EXIT_FLUSH_TIMEOUT``), then stop. pygls's ``exit``
        handler waits for this before it ends the process."""
        return asyncio.ensure_future(self.aclose())

    async def aclose(self, timeout: float | None = None) -> None:
        await self.flush(EXIT_FLUSH_TIMEOUT if timeout is None else timeout)
        self.closed = True
        self._stop()

    async def flush(self, timeout: float) -> bool:
        """Wait until the reader has taken everything, or ``timeout``; True if it has."""
        if self.pending and self.lost is None:
            drained = asyncio.get_running_loop().create_future()
            self._drained.append(drained)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(drained, timeout)
        return not self.pending

    # -- for the writing side --------------------------------------------------------------------

    def _enqueue(self, frame: bytes) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        """Stop writing (after ``flush``); what still waits is given up."""

    def _took(self, count: int) -> None:
        """The reader took ``count`` bytes of what waited."""
        self.pending -= count
        self._progress_at = self._clock()
        if not self.pending:
            self._wake_flushes()
        if not self.pending and (self.dropped or self.dropped_low_value):
            self._notes.append(
                (
                    "the %s reads again; %d log messages and %d other messages were dropped "
                    "meanwhile",
                    (self.name, self.dropped_low_value, self.dropped),
                )
            )
            self.dropped = self.dropped_low_value = 0

    def _started_waiting(self, count: int) -> None:
        if not self.pending:
            self._progress_at = self._clock()
        self.pending += count

    def _fail(self, error: OSError) -> None:
        if self.lost is not None:
            return
        self.lost = error
        self._frames.clear()
        self.pending = 0
        self._wake_flushes()
        if self._on_lost is not None:
            self._on_lost(error)

    def _dropping(self, what: str) -> None:
        idle = self._clock() - self._progress_at
        self._notes.append(
            (
                "the %s is not reading: %d KiB waiting, nothing taken for %.1f s; dropping %s "
                "until it reads again",
                (self.name, self.pending // KIB, idle, what),
            )
        )

    def _wake_flushes(self) -> None:
        # From the writer thread too: each waiter is woken on its own loop.
        waiters, self._drained = self._drained, []
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                waiter.get_loop().call_soon_threadsafe(_set_done, waiter)

    def _take_notes(self) -> list[tuple[str, tuple[Any, ...]]]:
        notes, self._notes = self._notes, []
        return notes

    def _log_notes(self, notes: list[tuple[str, tuple[Any, ...]]] | None = None) -> None:
        for message, args in self._take_notes() if notes is None else notes:
            logger.warning(message, *args)


class PipeOutbox(Outbox):
    """An ``Outbox`` on a pipe or socket made non-blocking, written from the event loop: a frame
    goes out in the ``send`` call while the pipe has room, the rest when the loop says it has."""

    def __init__(
        self,
        fd: int,
        name: str,
        limits: OutboxLimits = STDOUT_LIMITS,
        *,
        on_lost: Callable[[OSError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name, limits, on_lost=on_lost, clock=clock)
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._watching = False
        os.set_blocking(fd, False)

    def _enqueue(self, frame: bytes) -> None:
        if self._frames:
            self._frames.append(frame)
            self._started_waiting(len(frame))
            return
        try:
            written = os.write(self._fd, frame)
        except BlockingIOError:
            written = 0
        except OSError as error:
            self._fail(error)
            return
        if written < len(frame):
            self._frames.append(memoryview(frame)[written:])
            self._started_waiting(len(frame) - written)
            self._loop.add_writer(self._fd, self._write_queued)
            self._watching = True

    def _write_queued(self) -> None:
        while self._frames:
            frame = self._frames[0]
            try:
                written = os.write(self._fd, frame)
            except BlockingIOError:
                return
            except OSError as error:
                self._unwatch()
                self._fail(error)
                return
            if written < len(frame):
                self._frames[0] = memoryview(frame)[written:]
                self._took(written)
                return
            self._frames.popleft()
            self._took(written)
            self._log_notes()
        self._unwatch()

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_writer(self._fd)
            self._watching = False

    def _stop(self) -> None:
        self._unwatch()
        self._frames.clear()
        self.pending = 0


class ThreadOutbox(Outbox):
    """An ``Outbox`` written by a thread of its own with blocking writes: for a stream that must
    stay blocking (shared with another process, or not pollable). ``send`` may be called from
    any thread."""

    def __init__(
        self,
        stream: BinaryIO,
        name: str,
        limits: OutboxLimits = STDOUT_LIMITS,
        *,
        on_lost: Callable[[OSError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name, limits, on_lost=self._report_lost, clock=clock)
        self._stream = stream
        self._report = on_lost
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        # Re-entrant: a drop is logged, and the log record may come back here (stderr).
        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name=f"{name} writer", daemon=True)
        self._thread.start()

    def send(self, frame: bytes, *, low_value: bool = False) -> bool:
        with self._lock:
            admitted = self._admit(frame, low_value)
            notes = self._take_notes()
        self._log_notes(notes)
        return admitted

    def _enqueue(self, frame: bytes) -> None:
        self._frames.append(frame)
        self._started_waiting(len(frame))
        self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._frames and not self.closed:
                    self._ready.wait()
                if not self._frames:
                    return
                frame = self._frames[0]
            try:
                self._stream.write(frame)
                self._stream.flush()
            except OSError as error:
                with self._lock:
                    self._fail(error)
                return
            with self._lock:
                if self._frames and self._frames[0] is frame:
                    self._frames.popleft()
                    self._took(len(frame))
                notes = self._take_notes()
            self._log_notes(notes)

    def _report_lost(self, error: OSError) -> None:
        # Called on the writer thread: the owner hears of it on the loop, if there is one.
        if self._report is None:
            return
        if self._loop is None:
            self._report(error)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to tell
                self._loop.call_soon_threadsafe(self._report, error)

    def _stop(self) -> None:
        with self._lock:
            self.closed = True
            self._ready.notify()

    def close_now(self, timeout: float) -> None:
        """Without an event loop: let the thread write what waits, for at most ``timeout``
        seconds, then stop it."""
        with self._lock:
            self.closed = True
            self._ready.notify()
        self._thread.join(timeout)


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
