"""Time and size bounds of a call to the API: its deadline, the waits within it, and how much of
a body is read.

``Budget`` is the clock of one call, all its attempts included: every wait (for the headers, for
the next bytes of a body) is bounded by its own timeout and by what is left of the deadline.
``BodyReader`` reads a response's body itself, decompressing it piece by piece, so that a
decompression bomb costs at most one piece of memory before the caller's size check stops it.
"""

from __future__ import annotations

import asyncio
import math
import sys
import zlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from cline_bridge.api import constants
from cline_bridge.api.errors import APITimeoutError, ClineAPIError
from cline_bridge.api.retry import describe_wait

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

PIECE = 64 * 1024
"""The most bytes one decompression step produces."""
ACCEPTED_ENCODINGS = "gzip, deflate"
"""Sent as Accept-Encoding: the encodings ``BodyReader`` can decompress within bounds."""


@dataclass(frozen=True)
class TimeBounds:
    """The time bounds of a client's calls, in seconds (see ``api.constants``)."""

    connect: float = constants.CONNECT_TIMEOUT
    first_byte: float = constants.FIRST_BYTE_TIMEOUT
    idle: float = constants.IDLE_TIMEOUT
    deadline: float | None = constants.DEADLINE
    """None: no deadline."""


class Budget:
    """The clock of one call: when it must be over, and how long each wait may last."""

    def __init__(self, bounds: TimeBounds) -> None:
        self.bounds = bounds
        self._clock = asyncio.get_running_loop().time
        deadline = bounds.deadline
        self._expires = math.inf if deadline is None else self._clock() + deadline

    def left(self) -> float:
        """Seconds until the deadline (``inf`` without one)."""
        return self._expires - self._clock()

    def now(self) -> float:
        return self._clock()

    async def wait(self, awaitable: Awaitable[T], until: float, slow: str) -> T:
        """``await awaitable`` until the clock reads ``until`` at most (``inf``: as long as the
        deadline allows); then raise ``APITimeoutError`` with ``slow`` as its message, or saying
        that the deadline passed when that came first."""
        until = min(until, self._expires)
        try:
            return await _within(awaitable, until)
        except asyncio.TimeoutError:
            if self._clock() < until:
                raise  # not ours: something inside timed out on its own
            if until >= self._expires:
                raise APITimeoutError(self.deadline_message()) from None
            raise APITimeoutError(slow) from None

    def deadline_message(self) -> str:
        deadline = self.bounds.deadline or 0.0
        return f"The Cline API call did not finish within its deadline of {describe_wait(deadline)}"


if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[T], until: float) -> T:
        async with asyncio.timeout_at(None if until == math.inf else until):
            return await awaitable

else:

    async def _within(awaitable: Awaitable[T], until: float) -> T:
        # A task per wait: Python 3.10 has no asyncio.timeout.
        left = None if until == math.inf else until - asyncio.get_running_loop().time()
        return await asyncio.wait_for(awaitable, left)


class BodyReader:
    """A response's body, decompressed, in pieces of at most ``PIECE`` bytes when compressed.

    Each read waits at most the idle bound since ``alive()`` was last called (or since the reader
    was made), and never past the deadline. ``size`` counts the bytes handed out.
    """

    def __init__(self, response: httpx.Response, budget: Budget, *, idle_message: str) -> None:
        self._raw = response.aiter_raw()
        self._inflater = _Inflater.for_encoding(response.headers.get("content-encoding", ""))
        self._budget = budget
        self._idle_message = idle_message
        self._idle_until = 0.0
        self._ended = False
        self.size = 0
        self.alive()

    def alive(self) -> None:
        """Data arrived, or the caller took its time with it: the idle wait starts again."""
        self._idle_until = self._budget.now() + self._budget.bounds.idle

    async def read(self) -> bytes | None:
        """The next piece of the body; None at its end."""
        while not self._ended:
            if self._inflater.has_input():
                piece = self._inflater.pull()
            else:
                raw = await self._budget.wait(
                    anext(self._raw, None), self._idle_until, self._idle_message
                )
                if raw is None:
                    self._ended = True
                    piece = self._inflater.finish()
                else:
                    self._inflater.push(raw)
                    continue
            if piece:
                self.size += len(piece)
                return piece
        return None


async def read_body(
    response: httpx.Response, budget: Budget, *, limit: int, what: str, truncate: bool
) -> bytes:
    """The body of ``response``, decompressed, bytes arriving at least once per idle bound. At
    most ``limit`` bytes are read: beyond them the body is cut (``truncate``) or refused with a
    ``ClineAPIError``. The caller closes the response."""
    reader = BodyReader(
        response, budget, idle_message=f"The Cline API stopped sending {what} mid-way"
    )
    pieces: list[bytes] = []
    while (piece := await reader.read()) is not None:
        reader.alive()
        pieces.append(piece)
        if reader.size > limit:
            if truncate:
                break
            raise ClineAPIError(
                f"The Cline API sent {what} larger than {describe_size(limit)}; refused",
                retryable=False,
            )
    return b"".join(pieces)[:limit]


def describe_size(size: int) -> str:
    """A byte count as a person reads it: "64 KiB", "16 MiB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    return f"{size / 1024:g} KiB"


class _Inflater:
    """Content-Encoding undone step by step: no step yields more than ``PIECE`` bytes."""

    def __init__(self, wbits: int | None, name: str) -> None:
        self._wbits = wbits
        self._name = name
        self._zlib = zlib.decompressobj(wbits) if wbits is not None else None
        self._input = b""
        self._started = False

    @classmethod
    def for_encoding(cls, header: str) -> _Inflater:
        """The inflater for a Content-Encoding header; a ``ClineAPIError`` for one that was not
        asked for (only ``ACCEPTED_ENCODINGS`` are)."""
        names = [name.strip().lower() for name in header.split(",")]
        names = [name for name in names if name and name != "identity"]
        if not names:
            return cls(None, "identity")
        if names in (["gzip"], ["x-gzip"]):
            return cls(zlib.MAX_WBITS | 16, "gzip")
        if names == ["deflate"]:
            return cls(zlib.MAX_WBITS, "deflate")
        raise ClineAPIError(
            f"The Cline API answered in an encoding the bridge does not read ({header[:40]})",
            retryable=False,
        )

    def has_input(self) -> bool:
        return bool(self._input)

    def push(self, data: bytes) -> None:
        self._input = data

    def pull(self) -> bytes:
        data, self._input = self._input, b""
        if self._zlib is None:
            return data
        try:
            piece = self._zlib.decompress(data, PIECE)
        except zlib.error:
            if self._started or self._name != "deflate":
                raise self._unreadable() from None
            # "deflate" is sent zlib-wrapped or raw: the first bytes tell which.
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            self._input = data
            self._started = True
            return b""
        self._started = True
        self._input = self._zlib.unconsumed_tail
        return piece

    def finish(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush()
        except zlib.error:
            raise self._unreadable() from None

    def _unreadable(self) -> ClineAPIError:
        return ClineAPIError(
            f"The Cline API sent a body that cannot be decompressed ({self._name})",
            retryable=False,
        )
