"""The LSP base protocol's framing: a ``Content-Length`` header block, then a JSON body.

One decoder for every connection of ours that speaks it: the script library's (to a control
socket, blocking or with asyncio, or to a headless sidecar's stdio) and the sidecar's control
endpoint. (pygls reads the editor's stdio.) The decoder does no I/O: ``feed`` it the bytes as they
arrive and take the whole bodies out with ``next_body``; the owner reads.

It is strict, so that a peer that breaks the framing is told at once rather than misread: the
header block ends with CRLF CRLF and fits ``MAX_HEADER_BYTES``; it holds ``Content-Length`` (a
decimal number) and at most ``Content-Type``, in any case; a body over the decoder's ``max_body``
is refused before it is read.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping
    from typing import Any

MAX_HEADER_BYTES = 8 * 1024
"""The most a frame's header block may hold; real ones are a few dozen bytes."""
READ_SIZE = 64 * 1024
"""How much a reader asks for at a time."""

_HEADER_END = b"\r\n\r\n"


class FrameError(Exception):
    """The peer broke the framing; the message says how. Nothing after it can be trusted."""


def encode(message: Mapping[str, Any]) -> bytes:
    """``message`` as one frame. Non-ASCII text is escaped, so any str (a lone surrogate too)
    makes valid UTF-8."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameDecoder:
    """Splits a byte stream into frame bodies.

    ``max_body`` may be raised between two bodies (the control endpoint does, once a client has
    authenticated); it applies to the frames not yet started.
    """

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self._buffer = bytearray()  # CPython drops bytes from its front without copying the rest
        self._body_length: int | None = None
        """The length of the body being waited for, once its header block has been read."""

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_body(self) -> bytes | None:
        """The next whole body, or None until more bytes have been fed. Raises ``FrameError``."""
        if self._body_length is None:
            end = self._buffer.find(_HEADER_END, 0, MAX_HEADER_BYTES + len(_HEADER_END))
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    raise FrameError("header too long")
                return None
            self._body_length = self._content_length(bytes(self._buffer[:end]))
            del self._buffer[: end + len(_HEADER_END)]
        length = self._body_length
        if len(self._buffer) < length:
            return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._body_length = None
        return body

    def finish(self) -> None:
        """The input has ended: raise ``FrameError`` if it ended inside a frame."""
        if self._body_length is not None:
            raise FrameError("connection closed inside a body")
        if self._buffer:
            raise FrameError("connection closed inside a header")

    def _content_length(self, header: bytes) -> int:
        length = None
        for line in header.split(b"\r\n"):
            name, separator, value = line.partition(b":")
            if not separator:
                raise FrameError("malformed header line")
            name = name.strip().lower()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit():
                    raise FrameError("Content-Length is not a number")
                length = int(value)
            elif name != b"content-type":
                raise FrameError("unknown header")
        if length is None:
            raise FrameError("no Content-Length")
        if length > self.max_body:
            raise FrameError(f"Content-Length {length} is over the cap of {self.max_body}")
        return length


async def read_body(reader: asyncio.StreamReader, decoder: FrameDecoder) -> bytes | None:
    """The next body from ``reader`` through ``decoder``, or None at a clean end of input."""
    while (body := decoder.next_body()) is None:
        data = await reader.read(READ_SIZE)
        if not data:
            decoder.finish()
            return None
        decoder.feed(data)
    return body
