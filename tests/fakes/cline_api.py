"""A scripted fake of the Cline REST API: a real HTTP/1.1 server on 127.0.0.1.

Each test scripts the replies it wants, in order; every request takes the next one::

    fake.script(sse(text_chunks("Hello", " world")), json_reply(MODELS))

The shapes mirror the Cline API reference: OpenAI chat-completion chunks with ``cost`` in
``usage``, both mid-stream error forms, and the error bodies seen in practice (an ``error`` that is
an object, a plain string or a JSON-encoded string). A request with no reply left gets a 500 whose
body names it, so a test that forgot a reply fails with an obvious message.

Streams use chunked transfer encoding, as a real gateway does. That keeps the two kinds of
"stream ended early" apart for the client: ``sse(..., done=False)`` ends the body cleanly without
``[DONE]`` (the client must notice the missing terminal chunk itself), while
``sse(..., close_after=N)`` drops the connection inside the chunked body, which httpx reports as an
incomplete body (a protocol error). A close-delimited body could only produce the first kind.

The same server stands in for the model behind the real Cline CLI (``cline --acp``, provider
``openai-compatible`` with ``url`` as its base URL). For that use, ``DynamicReply`` answers from
the request itself (``write_file`` calls whichever file tool the agent offers), ``text_turn``
streams a final answer, ``FakeClineAPI(unscripted_status=401)`` fails an unscripted request at
once (the CLI retries a 5xx for about a minute), and ``RecordedRequest.messages`` and friends
read what the agent sent.

Only the standard library is used, so the fake cannot share a bug with the client under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "anthropic/claude-sonnet-4-6"
DEFAULT_ID = "gen-fake-1"
# How long the server waits for a hung request or a gate before giving up on its own; close()
# releases both at once, so this only matters if a test forgets to.
MAX_HOLD_SECONDS = 30.0

Chunk = Mapping[str, Any] | str
"""One SSE event: a dict becomes one ``data: <json>`` line; a string is written verbatim."""


# -- requests ----------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the fake received it, and how the fake's answer ended."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    json: Any
    """The parsed body, or None when it is empty or not JSON."""
    outcome: str = "pending"
    """``answered``, ``closed early`` (close_after), ``client disconnected``, ``released``
    (a hang or gate let go by close()), or ``pending`` while the handler still runs."""
    finished: threading.Event = field(default_factory=threading.Event)
    """Set when the handler is done with this request, whatever the outcome."""

    # Readers for chat-completion bodies, so assertions stay one line long.

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The body's ``messages`` (empty when there are none)."""
        messages = self.json.get("messages") if isinstance(self.json, dict) else None
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def tool_names(self) -> list[str]:
        """The names of the function tools the body offers, in order."""
        tools = self.json.get("tools") if isinstance(self.json, dict) else None
        names = []
        for tool in tools if isinstance(tools, list) else []:
            function = tool.get("function") if isinstance(tool, dict) else None
            name = function.get("name") if isinstance(function, dict) else None
            if isinstance(name, str):
                names.append(name)
        return names

    @property
    def tool_results(self) -> list[Any]:
        """The contents of the ``role: "tool"`` messages, in order, each JSON-decoded when it is
        JSON (the Cline CLI sends a JSON string, e.g. ``{"result": …, "success": true}``)."""
        results = []
        for message in self.messages:
            if message.get("role") == "tool":
                content = _text_of(message.get("content"))
                try:
                    results.append(json.loads(content))
                except ValueError:
                    results.append(content)
        return results

    @property
    def user_parts(self) -> list[dict[str, Any]]:
        """The last user message's content parts; a plain string content is one text part."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, str):
                    return [{"type": "text", "text": content}]
                return [part for part in content or [] if isinstance(part, dict)]
        return []

    @property
    def user_text(self) -> str:
        """The last user message's text parts, joined with newlines."""
        return _text_of(self.user_parts)

    @property
    def user_images(self) -> list[str]:
        """The URLs (usually ``data:`` URLs) of the last user message's image parts."""
        urls = []
        for part in self.user_parts:
            image = part.get("image_url") if part.get("type") == "image_url" else None
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                urls.append(url)
        return urls


def _text_of(content: Any) -> str:
    """A message content as text: a string as is, a list of parts as its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        return "\n".join(text for text in texts if isinstance(text, str))
    return ""


# -- replies -----------------------------------------------------------------------------------


class ClientGone(Exception):
    """The client closed the connection while the fake was still answering."""


class Released(Exception):
    """The fake is closing: a held reply stops without finishing."""


class Reply:
    """How the fake answers one request."""

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        raise NotImplementedError


@dataclass
class StaticReply(Reply):
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Content-Length", str(len(self.body)))
        for name, value in self.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.write(self.body)
        request.outcome = "answered"


@dataclass
class StreamReply(Reply):
    chunks: list[Chunk]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    done: bool = True
    content_type: str = "text/event-stream"
    crlf: bool = False
    comments: bool = False
    delay: float = 0.0
    split: int | None = None
    close_after: int | None = None
    gate: threading.Event | None = None
    gate_after: int = 1

    def events(self) -> list[str]:
        """The SSE blocks to send, each without its terminating blank line."""
        events = [
            chunk if isinstance(chunk, str) else "data: " + json.dumps(chunk, separators=(",", ":"))
            for chunk in self.chunks
        ]
        if self.done:
            events.append("data: [DONE]")
        return events

    def encode(self, event: str, *, keep_alive: bool) -> bytes:
        text = (": keep-alive\n\n" if keep_alive else "") + event + "\n\n"
        if self.crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return text.encode()

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        for name, value in self.headers.items():
            handler.send_header(name, value)
        handler.end_headers()

        events = self.events()
        cut = self.close_after is not None and self.close_after < len(events)
        if cut:
            events = events[: self.close_after]
        blocks = [self.encode(event, keep_alive=self.comments) for event in events]
        # Without a delay or a gate the body goes out as one stream of bytes, so a ``split``
        # cuts across event boundaries too; otherwise each event is written (and split) alone.
        paced = self.delay > 0 or self.gate is not None
        segments = blocks if paced else [b"".join(blocks)] if blocks else []
        for number, segment in enumerate(segments, start=1):
            if self.split:
                for start in range(0, len(segment), self.split):
                    handler.write_chunk(segment[start : start + self.split])
            elif segment:
                handler.write_chunk(segment)
            if self.gate is not None and number == self.gate_after:
                handler.hold(self.gate)
            if self.delay > 0 and number < len(segments):
                handler.pause(self.delay)
        if cut:
            # Promise a chunk, send part of it, and drop the connection: the body is incomplete.
            handler.write(b'40\r\ndata: {"choices":[{"delta":{"content":"tru')
            handler.drop()
            request.outcome = "closed early"
            return
        handler.write(b"0\r\n\r\n")
        request.outcome = "answered"


@dataclass
class DynamicReply(Reply):
    """A reply computed from the request when it arrives, e.g. to call a tool the request offers.

    If ``build`` raises, the request gets a 401 whose body names the problem, and the problem is
    kept in ``FakeClineAPI.problems``: a 401 fails a Cline CLI prompt at once, where a 5xx or a
    dropped connection would be retried for about a minute.
    """

    build: Callable[[RecordedRequest], Reply]

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        try:
            reply = self.build(request)
        except Exception as error:
            problem = f"cannot answer {request.method} {request.path}: {error}"
            handler.server.fake._problem(problem)
            reply = text_reply(f"fake Cline API: {problem}", 401)
        reply.send(handler, request)


class HangReply(Reply):
    """Read the request and never answer, until the client gives up or the fake closes."""

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        handler.hold(None)


def sse(
    chunks: Iterable[Chunk],
    *,
    done: bool = True,
    content_type: str = "text/event-stream",
    crlf: bool = False,
    comments: bool = False,
    delay: float = 0.0,
    split: int | None = None,
    close_after: int | None = None,
    gate: threading.Event | None = None,
    gate_after: int = 1,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> StreamReply:
    """A 200 SSE stream of ``chunks`` (chunked transfer encoding).

    ``done`` appends ``data: [DONE]``; ``crlf`` ends lines with CRLF; ``comments`` puts a
    ``: keep-alive`` comment block before every event; ``delay`` sleeps between events; ``split``
    writes the body in pieces of that many bytes, each flushed on its own; ``close_after=N`` sends
    the first N events (``[DONE]`` counts) and then drops the connection in the middle of a chunk;
    ``gate`` holds the stream after ``gate_after`` events until the test sets the event.
    """
    return StreamReply(
        chunks=list(chunks),
        status=status,
        headers=dict(headers or {}),
        done=done,
        content_type=content_type,
        crlf=crlf,
        comments=comments,
        delay=delay,
        split=split,
        close_after=close_after,
        gate=gate,
        gate_after=gate_after,
    )


def json_reply(
    body: Any, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> StaticReply:
    """A JSON body (any JSON value) with a Content-Length."""
    return StaticReply(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers=dict(headers or {}),
    )


def text_reply(
    text: str,
    status: int,
    content_type: str = "text/plain",
    *,
    headers: Mapping[str, str] | None = None,
) -> StaticReply:
    """A non-JSON body, e.g. a proxy's HTML error page."""
    return StaticReply(
        status=status, body=text.encode(), content_type=content_type, headers=dict(headers or {})
    )


def hang() -> HangReply:
    """Accept the request and never answer (for timeout and cancellation tests)."""
    return HangReply()


# -- chunk builders ----------------------------------------------------------------------------


def usage(
    prompt_tokens: int = 14,
    completion_tokens: int = 8,
    cost: float | None = 0.000066,
    cached_tokens: int | None = 0,
) -> dict[str, Any]:
    """A usage object as the Cline gateway sends it: OpenAI counts plus ``cost`` in USD."""
    result: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens is not None:
        result["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    if cost is not None:
        result["cost"] = cost
    return result


def chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    model: str = DEFAULT_MODEL,
    id: str = DEFAULT_ID,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with a single choice."""
    result: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}],
    }
    if usage is not None:
        result["usage"] = dict(usage)
    return result


def role_chunk(*, model: str = DEFAULT_MODEL, id: str = DEFAULT_ID) -> dict[str, Any]:
    return chunk({"role": "assistant"}, model=model, id=id)


def content_chunk(text: str, *, model: str = DEFAULT_MODEL, id: str = DEFAULT_ID) -> dict[str, Any]:
    return chunk({"content": text}, model=model, id=id)


def reasoning_chunk(
    text: str, *, key: str = "reasoning", model: str = DEFAULT_MODEL, id: str = DEFAULT_ID
) -> dict[str, Any]:
    """A reasoning delta under ``reasoning`` (Cline, OpenRouter) or ``reasoning_content``."""
    return chunk({key: text}, model=model, id=id)


def finish_chunk(
    finish_reason: str = "stop",
    *,
    usage: Mapping[str, Any] | None = None,
    model: str = DEFAULT_MODEL,
    id: str = DEFAULT_ID,
) -> dict[str, Any]:
    """The last chunk: an empty delta, the finish reason and (usually) the usage."""
    return chunk({}, finish_reason=finish_reason, usage=usage, model=model, id=id)


def usage_only_chunk(
    usage: Mapping[str, Any], *, model: str = DEFAULT_MODEL, id: str = DEFAULT_ID
) -> dict[str, Any]:
    """OpenAI style: usage on a chunk of its own with ``choices: []``."""
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": model,
        "choices": [],
        "usage": dict(usage),
    }


_DEFAULT_USAGE = usage()


def text_chunks(
    *pieces: str,
    model: str = DEFAULT_MODEL,
    id: str = DEFAULT_ID,
    finish_reason: str = "stop",
    usage: Mapping[str, Any] | None = _DEFAULT_USAGE,
    usage_separate: bool = False,
) -> list[dict[str, Any]]:
    """A text reply: a role delta, one content delta per piece, a final chunk with usage.

    With ``usage_separate`` the final chunk has no usage and a ``choices: []`` chunk follows.
    """
    chunks = [role_chunk(model=model, id=id)]
    chunks += [content_chunk(piece, model=model, id=id) for piece in pieces]
    final_usage = None if usage_separate else usage
    chunks.append(finish_chunk(finish_reason, usage=final_usage, model=model, id=id))
    if usage_separate and usage is not None:
        chunks.append(usage_only_chunk(usage, model=model, id=id))
    return chunks


@dataclass(frozen=True)
class FakeToolCall:
    id: str
    name: str
    arguments: str
    """The JSON-encoded arguments, as the model streams them."""


def tool_call_chunks(
    *calls: FakeToolCall,
    interleave: bool = False,
    piece_size: int = 4,
    text_before: str | None = None,
    model: str = DEFAULT_MODEL,
    id: str = DEFAULT_ID,
    usage: Mapping[str, Any] | None = _DEFAULT_USAGE,
    usage_separate: bool = False,
) -> list[dict[str, Any]]:
    """Streamed tool calls, each identified by its ``index``.

    A call's opening delta holds ``id``, ``type``, ``function.name`` and empty ``arguments``; the
    later ones hold ``piece_size``-character pieces of the arguments. With ``interleave`` all calls
    open first and their pieces then alternate. Ends with ``finish_reason: "tool_calls"``.
    """

    def opening(index: int, call: FakeToolCall) -> dict[str, Any]:
        return {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }

    def pieces(call: FakeToolCall) -> list[str]:
        args = call.arguments
        return [args[i : i + piece_size] for i in range(0, len(args), piece_size)]

    def delta(*tool_calls: dict[str, Any]) -> dict[str, Any]:
        return chunk({"tool_calls": list(tool_calls)}, model=model, id=id)

    chunks = [role_chunk(model=model, id=id)]
    if text_before:
        chunks.append(content_chunk(text_before, model=model, id=id))
    if interleave:
        chunks += [delta(opening(index, call)) for index, call in enumerate(calls)]
        queues = [deque(pieces(call)) for call in calls]
        while any(queues):
            for index, queue in enumerate(queues):
                if queue:
                    chunks.append(
                        delta({"index": index, "function": {"arguments": queue.popleft()}})
                    )
    else:
        for index, call in enumerate(calls):
            chunks.append(delta(opening(index, call)))
            chunks += [
                delta({"index": index, "function": {"arguments": piece}}) for piece in pieces(call)
            ]
    final_usage = None if usage_separate else usage
    chunks.append(finish_chunk("tool_calls", usage=final_usage, model=model, id=id))
    if usage_separate and usage is not None:
        chunks.append(usage_only_chunk(usage, model=model, id=id))
    return chunks


# -- the model behind the Cline CLI (cline --acp, provider openai-compatible) ------------------


def text_turn(
    *pieces: str,
    delay: float = 0.0,
    gate: threading.Event | None = None,
    gate_after: int = 1,
) -> StreamReply:
    """A final answer: ``pieces`` as text deltas and ``finish_reason: "stop"``, which ends the
    agent's turn. ``delay`` and ``gate`` pace the stream as in ``sse``, so a test can cancel
    while it streams (``gate_after=2`` holds it after the first piece)."""
    return sse(text_chunks(*pieces), delay=delay, gate=gate, gate_after=gate_after)


def add_file_patch(path: str, content: str) -> str:
    """An ``apply_patch`` input that creates ``path`` holding exactly ``content``.

    The Cline CLI joins an added file's ``+`` lines with ``\\n`` and adds none after the last,
    so every line of ``content`` becomes one ``+`` line and a final newline an empty ``+`` line
    (``"a\\n"`` → ``+a`` ``+``). It writes ``\\r\\n`` as ``\\n``; everything else comes out
    exactly (checked with cline 3.0.65, including empty content and ``*** End Patch`` lines).
    """
    lines = "".join(f"+{line}\n" for line in content.split("\n")) if content else ""
    return f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch"


def write_file(
    path: str | os.PathLike[str],
    content: str,
    *,
    call_id: str = "call_write_0",
    text_before: str | None = None,
) -> DynamicReply:
    """One tool call that creates the file ``path`` (absolute) holding ``content``.

    The Cline CLI offers ``editor`` (``{path, new_text}``) when the session's model was set to a
    non-GPT id before its first prompt, and ``apply_patch`` (a freeform patch, see
    ``add_file_patch``) with the default ``gpt-4o``; the reply calls whichever the request
    offers. The file then holds exactly ``content``. If the request offers neither (plan mode),
    or ``content`` holds ``\\r`` and only apply_patch is offered, the request gets a 401 that
    says so (see ``DynamicReply``); the CLI fails the prompt with that text at once.
    """
    target = os.fspath(path)
    if not os.path.isabs(target):
        raise ValueError(f"write_file needs an absolute path, got {target!r}")

    def build(request: RecordedRequest) -> Reply:
        offered = request.tool_names
        if "editor" in offered:
            arguments = {"path": target, "new_text": content}
            call = FakeToolCall(call_id, "editor", json.dumps(arguments))
        elif "apply_patch" in offered:
            if "\r" in content:
                raise ValueError(
                    "apply_patch writes every line ending as \\n, so it cannot create content "
                    "with \\r; set the session's model (e.g. to fake-model) to get editor"
                )
            patch = add_file_patch(target, content)
            call = FakeToolCall(call_id, "apply_patch", json.dumps({"input": patch}))
        else:
            raise LookupError(
                f"write_file({target!r}) needs the tool editor or apply_patch; "
                f"the request offers {offered}"
            )
        return sse(tool_call_chunks(call, text_before=text_before, piece_size=64))

    return DynamicReply(build)


def call_tool(
    name: str,
    arguments: Mapping[str, Any],
    *,
    call_id: str = "call_tool_0",
    text_before: str | None = None,
) -> StreamReply:
    """One call of the agent's tool ``name`` with ``arguments``, e.g. ``run_commands`` with
    ``{"commands": ["ls"]}`` or ``read_files`` with ``{"files": [{"path": ...}]}`` (the shapes:
    cline-acp.md, section 6). The agent must offer the tool; it asks before running it."""
    call = FakeToolCall(call_id, name, json.dumps(arguments))
    return sse(tool_call_chunks(call, text_before=text_before, piece_size=64))


def error_choice_chunk(
    code: str = "context_length_exceeded",
    message: str = "The input exceeds the model's maximum context length.",
    *,
    model: str = DEFAULT_MODEL,
    id: str = DEFAULT_ID,
) -> dict[str, Any]:
    """Documented mid-stream error: ``finish_reason: "error"`` with ``choices[0].error``."""
    result = chunk({}, finish_reason="error", model=model, id=id)
    result["choices"][0]["error"] = {"code": code, "message": message}
    return result


def error_top_level_chunk(
    code: int | str = 502,
    message: str = "Upstream stream ended before terminal chunk",
    *,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """OpenRouter-style mid-stream error: a chunk whose top level is an ``error`` object."""
    error: dict[str, Any] = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = dict(metadata)
    return {"error": error}


# -- error replies seen in practice (reference §7.1, §7.3) -----------------------------------


def _error(status: int, body: Any, request_id: str, **headers: str) -> StaticReply:
    reply = json_reply(body, status, headers={"x-request-id": request_id})
    reply.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
    return reply


INFERENCE_CAP_MESSAGE = (
    "Error 429: Daily free limit reached on model deepseek/deepseek-v4.1-flash. "
    "Try again in 19h 39m"
)

ERROR_REPLIES: dict[str, Callable[[], StaticReply]] = {
    "400 documented": lambda: _error(
        400,
        {"error": {"code": 400, "message": "messages: field required", "metadata": {}}},
        "req-400",
    ),
    "401 documented": lambda: _error(
        401, {"error": {"code": 401, "message": "Invalid API key", "metadata": {}}}, "req-401"
    ),
    "401 success false": lambda: _error(
        401, {"success": False, "error": "Unauthorized"}, "req-401-mock"
    ),
    "401 live string": lambda: _error(
        401,
        {
            "error": "Unauthorized: Please make sure you're using the latest version of Cline "
            "and re-authenticate..."
        },
        "req-401-live",
    ),
    "402 insufficient credits": lambda: _error(
        402,
        {
            "success": False,
            "error": json.dumps(
                {
                    "code": "insufficient_credits",
                    "current_balance": -0.14,
                    "message": "Not enough credits available",
                }
            ),
        },
        "req-402",
    ),
    "403 region": lambda: _error(
        403,
        {
            "error": "access forbidden: anthropic/claude-sonnet-4-6 "
            "is not available in your region",
            "success": False,
        },
        "req-403",
    ),
    "403 entitlement": lambda: _error(
        403,
        {
            "error": {
                "code": "ENTITLEMENT_ERROR",
                "message": "the user is not subscribed to required model plan",
            }
        },
        "req-403-ent",
    ),
    "404 model": lambda: _error(404, {"error": "model not found"}, "req-404"),
    "429 spend limit": lambda: _error(
        429,
        {
            "error": {
                "code": "SPEND_LIMIT_EXCEEDED",
                "limit_scope": "user",
                "budget_period": "daily",
                "limit_usd": 20.0,
                "spent_usd": 20.5,
                "resets_at": "2026-09-01T00:00:00Z",
                "message": "Your daily spend limit of $20.00 has been reached.",
            }
        },
        "req-429-spend",
    ),
    "429 inference cap": lambda: _error(
        429,
        {"error": {"code": "INFERENCE_CAP_ERROR", "message": INFERENCE_CAP_MESSAGE}},
        "req-429-cap",
        no_retry="true",
    ),
    "500 plain": lambda: text_reply(
        "Internal Server Error", 500, headers={"x-request-id": "req-500"}
    ),
    "502 html": lambda: text_reply(
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>cloudflare</center></body></html>",
        502,
        "text/html",
        headers={"x-request-id": "req-502"},
    ),
    "503 plain": lambda: text_reply(
        "upstream connect error or disconnect/reset before headers",
        503,
        headers={"x-request-id": "req-503"},
    ),
    "504 html": lambda: text_reply(
        "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        504,
        "text/html",
        headers={"x-request-id": "req-504"},
    ),
}
"""Canned error replies by name; each call builds a fresh reply."""


# -- the server --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeClineAPI

    def process_request(self, request: Any, client_address: Any) -> None:
        # One thread per connection, as ThreadingMixIn does, but kept so close() can join them.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-cline-api-{self.server_address[1]}-connection",
            daemon=True,
        )
        self.fake._threads.append(thread)
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up between requests (e.g. after leaving a stream at [DONE] with
        # bytes still unread) resets the connection; that is the client's right, not a failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean; the recorded requests say everything

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            json=parsed,
        )
        fake = self.server.fake
        reply = fake._take(request)
        try:
            reply.send(self, request)
        except ClientGone:
            request.outcome = "client disconnected"
            self.close_connection = True
        except Released:
            request.outcome = "released"
            self.close_connection = True
        finally:
            request.finished.set()

    # Writing helpers for the replies: every failed write means the client went away.

    def write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as error:
            raise ClientGone from error

    def write_chunk(self, data: bytes) -> None:
        self.write(b"%x\r\n%s\r\n" % (len(data), data))

    def hold(self, gate: threading.Event | None) -> None:
        """Wait for ``gate`` to be set, bounded by MAX_HOLD_SECONDS.

        Raises ClientGone as soon as the client closes the connection, and Released when the
        fake closes (or the bound runs out).
        """
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        while time.monotonic() < deadline:
            if gate is not None and gate.is_set():
                return
            self.pause(0.01)
        raise Released

    def pause(self, seconds: float) -> None:
        """Sleep, noticing a client that hangs up (ClientGone) and close() (Released)."""
        if self.server.fake._closing.wait(seconds):
            raise Released
        if self._client_hung_up():
            raise ClientGone

    def _client_hung_up(self) -> bool:
        # While it waits for a response an HTTP/1.1 client sends nothing, so a readable socket
        # that yields no bytes means it closed its end.
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    def drop(self) -> None:
        """Close the connection at once, without finishing the body."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class FakeClineAPI:
    """The fake server. ``url`` is the base URL a client is given (ending in ``/api/v1``).

    ``unscripted_status`` is the status of the answer to a request with no reply left: 500 by
    default; use 401 in front of the Cline CLI, which retries a 5xx for about a minute but fails
    a prompt on a 401 at once.
    """

    def __init__(self, *, unscripted_status: int = 500) -> None:
        self.requests: list[RecordedRequest] = []
        self.unscripted_status = unscripted_status
        self.problems: list[str] = []
        """Why requests got no scripted answer (unscripted, or a DynamicReply that failed)."""
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-cline-api-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def script(self, *replies: Reply) -> FakeClineAPI:
        """Queue replies; each request takes the next one, whatever its method and path."""
        with self._lock:
            self._replies.extend(replies)
        return self

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The requests to ``…/chat/completions`` so far, in arrival order."""
        with self._lock:
            requests = list(self.requests)
        return [r for r in requests if r.path.split("?", 1)[0].endswith("/chat/completions")]

    @property
    def pending(self) -> int:
        """How many scripted replies no request has taken yet."""
        with self._lock:
            return len(self._replies)

    def close(self) -> None:
        """Release hung requests, drop every connection and stop the server and its threads."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FakeClineAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Called from handler threads.

    def _take(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._replies:
                return self._replies.popleft()
        path = request.path.split("?", 1)[0]
        problem = f"no reply scripted for {request.method} {path}"
        self._problem(problem)
        return text_reply(
            f"fake Cline API: {problem}",
            self.unscripted_status,
            headers={"x-request-id": "req-unscripted"},
        )

    def _problem(self, problem: str) -> None:
        with self._lock:
            self.problems.append(problem)

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


@contextlib.contextmanager
def running(*, unscripted_status: int = 500) -> Iterator[FakeClineAPI]:
    """A started fake that is closed on exit."""
    fake = FakeClineAPI(unscripted_status=unscripted_status)
    try:
        yield fake
    finally:
        fake.close()
