"""The LSP base protocol's framing: a ``Content-Length`` header block, then a JSON body.

One decoder for every connection of ours that speaks it: the sidecar's stdin (``sidecar.incoming``)
and its control endpoint, and the script library's connections (to a control socket, blocking or
with asyncio, or to a headless sidecar's stdio). The decoder does no I/O: ``feed`` it the bytes as
they arrive and take the whole bodies out with ``next_body``; the owner reads.

It is strict, so that a peer that breaks the framing is told at once rather than misread: header
lines end with CRLF and the block with CRLF CRLF, within ``MAX_HEADER_BYTES``; it holds
``Content-Length`` (a decimal number) and at most ``Content-Type``, names in any case, values with
any spaces around them; a body over the decoder's ``max_body`` is refused before it is read. A line
that ends with a bare LF is refused as soon as it arrives, not once the header cap is reached: a
peer that frames with LF alone would otherwise wait for an answer that never comes.

After a ``FrameError`` nothing is certain, and most owners close the connection. One that must go
on (the editor's stdin) calls ``recover``: the refused frame's body is skipped when its length is
known, else every byte up to the next header.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping
    from typing import Any, NoReturn

MAX_HEADER_BYTES = 8 * 1024
"""The most a frame's header block may hold; real ones are a few dozen bytes."""
READ_SIZE = 64 * 1024
"""How much a reader asks for at a time."""

_HEADER_END = b"\r\n\r\n"
_HEADER_START = re.compile(rb"content-(?:length|type)[ \t]*:", re.IGNORECASE)
"""Where a frame may start: ``recover`` looks for it in the bytes after a broken header."""
_LONGEST_START = len(b"content-length:") - 1
"""Bytes kept at the end of the buffer while looking for a header: the start of one may be there."""


class FrameError(Exception):
    """The peer broke the framing; the message says how. Nothing after it can be trusted, unless
    the owner calls ``FrameDecoder.recover``."""


class FrameDecoder:
    """Splits a byte stream into frame bodies.

    ``max_body`` may be raised between two bodies (the control endpoint does, once a client has
    authenticated); it applies to the frames not yet started.
    """

    def __init__(self, max_body: int, *, ignore_other_headers: bool = False) -> None:
        """``ignore_other_headers``: a header other than ``Content-Length`` and ``Content-Type``
        is skipped rather than refused (as vscode-jsonrpc does; the editor's stdin)."""
        self.max_body = max_body
        self.ignore_other_headers = ignore_other_headers
        self.discarded = 0
        """Bytes ``recover`` has dropped looking for a header since the last whole body: what
        the owner may cap (a body skipped by its length is not counted)."""
        self._buffer = bytearray()  # CPython drops bytes from its front without copying the rest
        self._body_length: int | None = None
        """The length of the body being waited for, once its header block has been read."""
        self._refused_header: int | None = None
        """After a ``FrameError``: the length of the refused header block (CRLF CRLF included),
        if it was whole; None if the error came before its end."""
        self._refused_body: int | None = None
        """After a ``FrameError``: the refused frame's body length, if its header said it."""
        self._skip = 0
        """Body bytes of a refused frame still to drop (``recover``)."""
        self._seeking = False
        """Dropping bytes up to the next header (``recover``)."""

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_body(self) -> bytes | None:
        """The next whole body, or None until more bytes have been fed. Raises ``FrameError``."""
        if (self._skip or self._seeking) and not self._resynchronise():
            return None
        if self._body_length is None:
            end = self._buffer.find(_HEADER_END, 0, MAX_HEADER_BYTES + len(_HEADER_END))
            if end < 0 and len(self._buffer) > MAX_HEADER_BYTES:
                self._refuse("header too long")
            self._check_line_feeds(len(self._buffer) if end < 0 else end)
            if end < 0:
                return None
            self._body_length = self._content_length(bytes(self._buffer[:end]), end)
            del self._buffer[: end + len(_HEADER_END)]
        length = self._body_length
        if len(self._buffer) < length:
            return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._body_length = None
        self.discarded = 0
        return body

    def finish(self) -> None:
        """The input has ended: raise ``FrameError`` if it ended inside a frame."""
        if self._body_length is not None:
            raise FrameError("connection closed inside a body")
        if self._buffer and not self._seeking:
            raise FrameError("connection closed inside a header")

    def recover(self) -> int | None:
        """Skip the frame the last ``FrameError`` refused, so that ``next_body`` goes on with the
        next one: its body, when its header said how long it is (that length is returned), else
        every byte up to the next ``Content-Length`` or ``Content-Type`` header (None is
        returned; what is dropped looking for it is counted in ``discarded``)."""
        header, body = self._refused_header, self._refused_body
        self._refused_header = self._refused_body = None
        if header is None:
            # The error came before the block's end: drop a byte, so as not to find it again.
            self._drop(1)
            self._seeking = True
            return None
        del self._buffer[:header]
        if body is None:
            self._seeking = True
        self._skip = body or 0
        return body

    def _resynchronise(self) -> bool:
        """Drop what ``recover`` decided to; True once the next frame starts the buffer."""
        if self._skip:
            skipped = min(self._skip, len(self._buffer))
            del self._buffer[:skipped]
            self._skip -= skipped
            if self._skip:
                return False
        if self._seeking:
            found = _HEADER_START.search(self._buffer)
            if found is None:
                self._drop(max(0, len(self._buffer) - _LONGEST_START))
                return False
            self._drop(found.start())
            self._seeking = False
        return True

    def _drop(self, count: int) -> int:
        count = min(count, len(self._buffer))
        del self._buffer[:count]
        self.discarded += count
        return count

    def _check_line_feeds(self, end: int) -> None:
        """Refuse a header whose lines (before ``end``) end with a bare LF, at once: it would never
        end with CRLF CRLF, or end inside the next frame."""
        line_feed = self._buffer.find(b"\n", 0, end)
        while line_feed >= 0:
            if line_feed == 0 or self._buffer[line_feed - 1] != 0x0D:
                self._refuse("header line ends with LF alone, not CRLF")
            line_feed = self._buffer.find(b"\n", line_feed + 1, end)

    def _refuse(self, reason: str, header: int | None = None, body: int | None = None) -> NoReturn:
        """Raise ``FrameError``, noting what ``recover`` would skip: the header block's length
        (None: it has no end yet) and the body's (None: unknown)."""
        self._refused_header, self._refused_body = header, body
        raise FrameError(reason)

    def _content_length(self, header: bytes, end: int) -> int:
        whole = end + len(_HEADER_END)
        length = None
        problem = None
        for line in header.split(b"\r\n"):
            name, separator, value = line.partition(b":")
            if not separator:
                problem = problem or "malformed header line"
                continue
            name = name.strip().lower()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit():
                    self._refuse("Content-Length is not a number", whole)
                length = int(value)
            elif name != b"content-type" and not self.ignore_other_headers:
                problem = problem or "unknown header"
        if length is None:
            self._refuse(problem or "no Content-Length", whole)
        if problem is not None:
            self._refuse(problem, whole, length)
        if length > self.max_body:
            over = f"Content-Length {length} is over the cap of {self.max_body}"
            self._refuse(over, whole, length)
        return length


def encode(message: Mapping[str, Any]) -> bytes:
    """``message`` as one frame. Non-ASCII text is escaped, so any str (a lone surrogate too)
    makes valid UTF-8."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


async def read_body(reader: asyncio.StreamReader, decoder: FrameDecoder) -> bytes | None:
    """The next body from ``reader`` through ``decoder``, or None at a clean end of input."""
    while (body := decoder.next_body()) is None:
        data = await reader.read(READ_SIZE)
        if not data:
            decoder.finish()
            return None
        decoder.feed(data)
    return body
