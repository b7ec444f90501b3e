"""A server-sent events decoder without I/O (the WHATWG event-stream rules).

It does not care about Content-Type (the Cline API has been seen sending ``text/plain``), accepts
LF, CRLF and CR line endings, skips comments (keep-alives), joins multi-line ``data`` fields and
gives the same events however the bytes are split into chunks.

It is bounded and linear: each byte is looked at a constant number of times however the stream is
split (an unfinished line is kept as a list of pieces, joined once when its end arrives), and a
line or an event's data longer than ``max_line`` stops the stream with ``SSEDecodeError``
instead of growing without end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cline_bridge.api.constants import MAX_SSE_LINE

# Digits of a ``retry`` field worth reading (milliseconds): int() of thousands would raise.
_LONGEST_RETRY = 12


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecodeError(ValueError):
    """The stream broke a bound of the decoder; the decoder reads nothing more of it."""


class SSEDecoder:
    """Feed it bytes as they arrive; it returns each event once its blank line has arrived.

    ``feed`` raises ``SSEDecodeError`` (and keeps raising it) once a line, or the data an event
    joins from its lines, passes ``max_line`` bytes. It raises nothing else, whatever the bytes.
    """

    def __init__(self, max_line: int = MAX_SSE_LINE) -> None:
        self.max_line = max_line
        self._pieces: list[bytes] = []  # the unfinished line, as it arrived
        self._pieces_size = 0
        self._after_cr = False  # the last byte was a CR: an LF next is the rest of its CRLF
        self._failure: SSEDecodeError | None = None
        self._data: list[bytes] = []
        self._data_size = 0
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for the unfinished line: never more than ``max_line``."""
        return self._pieces_size

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._failure is not None:
            raise self._failure
        if not chunk:
            return []
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        lines = chunk.splitlines(keepends=True)
        # A last line without its ending is unfinished: keep it for the next chunk.
        unfinished = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else None
        try:
            events = self._decode(self._finished(lines, len(chunk)))
            if unfinished is not None:
                self._hold(unfinished)
        except SSEDecodeError as failure:
            self._failure = failure
            raise
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of input. An unfinished line, and an event without its blank line, are dropped,
        as the standard says; the caller decides whether a stream that ended there was
        complete."""
        self._pieces, self._pieces_size = [], 0
        self._data, self._data_size = [], 0
        self._event, self._id, self._retry = None, None, None
        self._after_cr = False
        return []

    def _finished(self, lines: list[bytes], chunk_size: int) -> list[bytes]:
        """The lines ended in this chunk of ``chunk_size`` bytes, without their endings; the
        first completes the held pieces, if any."""
        finished = [raw.rstrip(b"\r\n") for raw in lines]
        if finished and self._pieces:
            self._check_line(self._pieces_size + len(finished[0]))
            finished[0] = b"".join((*self._pieces, finished[0]))
            self._pieces, self._pieces_size = [], 0
        # A line within one chunk is no longer than the chunk: only a chunk over the bound (rare:
        # reads come in far smaller pieces) needs each of its lines checked.
        if chunk_size > self.max_line:
            for line in finished:
                self._check_line(len(line))
        return finished

    def _hold(self, piece: bytes) -> None:
        self._check_line(self._pieces_size + len(piece))
        self._pieces.append(piece)
        self._pieces_size += len(piece)

    def _check_line(self, size: int) -> None:
        if size > self.max_line:
            raise SSEDecodeError(f"a stream line is longer than {self.max_line} bytes")

    def _decode(self, lines: Iterable[bytes]) -> list[ServerSentEvent]:
        events = []
        for line in lines:
            if not line:
                if self._data or self._event is not None:
                    events.append(self._dispatch())
                continue
            if line[:1] == b":":
                continue  # a comment, such as a keep-alive
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._add_data(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
            elif name == b"id":
                self._id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit() and len(value) <= _LONGEST_RETRY:
                self._retry = int(value)
        return events

    def _add_data(self, value: bytes) -> None:
        self._data_size += len(value) + 1  # and the newline that joins it to the next
        if self._data_size > self.max_line + 1:
            raise SSEDecodeError(f"a stream event holds more than {self.max_line} bytes of data")
        self._data.append(value)

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(
            data=b"\n".join(self._data).decode("utf-8", "replace"),
            event=self._event,
            id=self._id,
            retry=self._retry,
        )
        self._data, self._data_size = [], 0
        self._event, self._retry = None, None
        return event
