"""A server-sent events decoder without I/O (the WHATWG event-stream rules).

It does not care about Content-Type (the Cline API has been seen sending ``text/plain``), accepts
LF, CRLF and CR line endings, skips comments (keep-alives), joins multi-line ``data`` fields and
gives the same events however the bytes are split into chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns each event once its blank line has arrived."""

    def __init__(self) -> None:
        self._pending = b""  # an unfinished line, or a line ending in CR that may precede LF
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._pending:
            chunk = self._pending + chunk
            self._pending = b""
        lines = chunk.splitlines(keepends=True)
        # A last line without its ending is unfinished; one ending in CR may be half of a CRLF.
        if lines and (not lines[-1].endswith(b"\n")):
            self._pending = lines.pop()
        return self._decode(lines)

    def flush(self) -> list[ServerSentEvent]:
        """End of input: finish a held line. An event without its blank line is dropped, as the
        standard says; the caller decides whether a stream that ended there was complete."""
        pending, self._pending = self._pending, b""
        events = self._decode([pending]) if pending.endswith(b"\r") else []
        self._data, self._event, self._id, self._retry = [], None, None, None
        return events

    def _decode(self, lines: Iterable[bytes]) -> list[ServerSentEvent]:
        events = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
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
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
            elif name == b"id":
                self._id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                self._retry = int(value)
        return events

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(
            data=b"\n".join(self._data).decode("utf-8", "replace"),
            event=self._event,
            id=self._id,
            retry=self._retry,
        )
        self._data, self._event, self._retry = [], None, None
        return event
