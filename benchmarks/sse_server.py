"""A local chat-completions SSE server for the streaming benchmarks (standard library only).

A POST (or GET) to ``/n/COUNT/chat/completions`` gets ``COUNT`` OpenAI chat-completion chunks
with one content delta each, a final chunk with ``finish_reason`` and ``usage``, then
``data: [DONE]``. One server serves every size: give a client ``base_url(port, count)`` as its
base URL. Other paths get a 404.

The body is built once per size and sent with chunked transfer encoding, in HTTP chunks of about
64 KiB: the server stays cheap and the client's transport does the least work per SSE event, so
what the benchmark times is parsing. Under ``/e/COUNT`` every SSE event is an HTTP chunk of its
own instead, as from a gateway that flushes each token (still written to the socket in large
batches): that adds the HTTP layer's cost per chunk (h11, httpcore, httpx) to every client.

Run as a script it prints ``PORT`` on stdout and serves until stdin closes (``SseServer`` does
this), so that it runs on its own core, outside the measuring process.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, Any

MODEL = "anthropic/claude-sonnet-4-6"
CHUNK_ID = "gen-bench-1"
CREATED = 1_700_000_000
WRITE_BATCH = 64 * 1024
PATH = re.compile(r"^/([ne])/(\d+)/chat/completions/?(?:\?.*)?$")


def base_url(port: int, count: int, *, per_event: bool = False) -> str:
    """The base URL under which `/chat/completions` streams `count` content deltas."""
    return f"http://127.0.0.1:{port}/{'e' if per_event else 'n'}/{count}"


def token(index: int) -> str:
    """The content of delta `index`: distinct, so a lost or reordered delta shows in the text."""
    return f"tok{index} "


def expected_text(count: int) -> str:
    """The whole answer a client should assemble from a stream of `count` deltas."""
    return "".join(token(index) for index in range(count))


def events(count: int) -> list[bytes]:
    """The SSE events of one stream, each with its blank line."""
    head = {"id": CHUNK_ID, "object": "chat.completion.chunk", "created": CREATED, "model": MODEL}
    out = []
    for index in range(count):
        choice = {"index": 0, "delta": {"content": token(index)}, "finish_reason": None}
        out.append(_event({**head, "choices": [choice]}))
    usage = {"prompt_tokens": 12, "completion_tokens": count, "total_tokens": count + 12}
    final = {"index": 0, "delta": {}, "finish_reason": "stop"}
    out.append(_event({**head, "choices": [final], "usage": {**usage, "cost": 0.0}}))
    out.append(b"data: [DONE]\n\n")
    return out


@lru_cache(maxsize=8)
def body(count: int, per_event: bool) -> tuple[bytes, ...]:
    """The chunked-encoded response body, as socket writes of about `WRITE_BATCH` bytes."""
    pieces = [_chunk(event) for event in events(count)] if per_event else _http_chunks(count)
    pieces.append(b"0\r\n\r\n")
    return tuple(_batches(pieces))


def _http_chunks(count: int) -> list[bytes]:
    return [_chunk(joined) for joined in _batches(events(count))]


def _batches(pieces: list[bytes]) -> list[bytes]:
    """`pieces` joined into runs of at least `WRITE_BATCH` bytes (the last may be shorter)."""
    out: list[bytes] = []
    pending: list[bytes] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= WRITE_BATCH:
            out.append(b"".join(pending))
            pending, size = [], 0
    if pending:
        out.append(b"".join(pending))
    return out


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def payload_size(count: int) -> int:
    """Bytes of SSE text in a stream of `count` deltas (without the chunked framing)."""
    return sum(len(event) for event in events(count))


def _event(chunk: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection across runs

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        match = PATH.match(self.path)
        if match is None:
            self.send_error(404, f"no stream at {self.path}")
            return
        batches = body(int(match.group(2)), match.group(1) == "e")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req-bench")
        self.end_headers()
        for batch in batches:
            self.wfile.write(batch)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that stopped reading
            super().handle_error(request, client_address)


def serve(stop_when_closed: IO[bytes], announce: IO[str]) -> None:
    """Serve on an ephemeral port of 127.0.0.1, print it, stop when `stop_when_closed` closes."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(server.server_address[1], file=announce, flush=True)
    stop_when_closed.read()
    server.shutdown()
    server.server_close()


class SseServer:
    """The server in a subprocess: ``with SseServer() as server: server.base_url(20_000)``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"the SSE server did not start (printed {line!r})")
        self.port = int(line)

    def base_url(self, count: int, *, per_event: bool = False) -> str:
        return base_url(self.port, count, per_event=per_event)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> SseServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout)
