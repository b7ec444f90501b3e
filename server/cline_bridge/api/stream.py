"""``ChatStream``: a streamed chat completion as typed events, and the result they add up to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from cline_bridge.api.bounds import BodyReader, Budget, TimeBounds, describe_size
from cline_bridge.api.constants import MAX_STREAM_BODY
from cline_bridge.api.errors import (
    APIConnectionError,
    APITimeoutError,
    ClineAPIError,
    IncompleteStreamError,
    StreamError,
    error_from_chunk,
)
from cline_bridge.api.events import (
    ChatEvent,
    Finished,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallsDone,
    UsageUpdate,
)
from cline_bridge.api.models import ChatResult, ToolCall, Usage
from cline_bridge.api.retry import describe_wait
from cline_bridge.api.safe_json import JSONTooDeepError, loads
from cline_bridge.api.sse import SSEDecodeError, SSEDecoder
from cline_bridge.redaction import redact

OpenResponse = Callable[[Budget], Awaitable[httpx.Response]]
"""Send the request within the call's budget; the response, its body still to be read."""
RetryDelay = Callable[[ClineAPIError, int, Budget], float | None]
"""The delay before retry ``attempt`` after an error, or None to raise it."""


class ChatStream:
    """Iterate it for events; ``result`` holds the whole answer once the stream has finished.

    Use it as ``async with client.stream_chat(...) as stream``: leaving the block closes the HTTP
    response, so breaking out of the loop or cancelling the task stops the download at once.
    A failure before any event reached the caller is retried (up to the client's limit); once an
    event was delivered, errors are raised after the partial output, never retried. The whole
    iteration, retries included, keeps to the client's deadline; the stream fails when no data
    event comes for the idle bound (keep-alive comments do not count).
    """

    def __init__(self, open_response: OpenResponse, retry_delay: RetryDelay, bounds: TimeBounds):
        self._open_response = open_response
        self._retry_delay = retry_delay
        self._bounds = bounds
        self._response: httpx.Response | None = None
        self._delivered = False
        self.result: ChatResult | None = None

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[ChatEvent]:
        return self._events()

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()

    async def final(self) -> ChatResult:
        """Read the rest of the stream; return the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def _events(self) -> AsyncIterator[ChatEvent]:
        budget = Budget(self._bounds)
        attempt = 0
        while True:
            try:
                async for event in self._attempt(budget):
                    self._delivered = True
                    yield event
                return
            except ClineAPIError as error:
                if self._delivered or (delay := self._retry_delay(error, attempt, budget)) is None:
                    raise
                attempt += 1
                await asyncio.sleep(delay)
            finally:
                await self.aclose()

    async def _attempt(self, budget: Budget) -> AsyncIterator[ChatEvent]:
        self._response = await self._open_response(budget)
        headers = self._response.headers
        request_id = headers.get("x-request-id") or headers.get("request-id")
        request_id = redact(request_id) if request_id else None
        answer = _Answer()
        try:
            reader = BodyReader(
                self._response,
                budget,
                idle_message=f"The Cline API stream sent no data for "
                f"{describe_wait(budget.bounds.idle)} (keep-alives do not count)",
            )
            async with contextlib.aclosing(_chunks(reader)) as chunks:
                async for chunk in chunks:
                    if chunk is None:
                        answer.done = True
                        continue
                    for event in answer.read(chunk):
                        yield event
                    # The caller has had the events: the time it took is not the server's.
                    reader.alive()
        except ClineAPIError as error:
            error.request_id = error.request_id or request_id
            raise
        except httpx.TimeoutException:  # the bounds of a caller's own http_client
            raise APITimeoutError(
                "The Cline API stopped sending mid-stream (read timeout)", request_id=request_id
            ) from None
        except httpx.RemoteProtocolError:
            raise IncompleteStreamError(
                "The Cline API closed the stream before it was complete", request_id=request_id
            ) from None
        except httpx.TransportError as error:
            raise APIConnectionError(
                f"Connection to the Cline API lost mid-stream: {type(error).__name__}",
                request_id=request_id,
            ) from None
        except SSEDecodeError as error:  # a bound of the decoder: the server will do it again
            raise StreamError(
                f"The Cline API sent a stream the bridge cannot read: {error}",
                request_id=request_id,
            ) from None
        except JSONTooDeepError:
            raise StreamError(
                "The Cline API sent a chunk nested too deep to read", request_id=request_id
            ) from None
        except ValueError:
            raise IncompleteStreamError(
                "The Cline API sent a chunk that is not JSON", request_id=request_id
            ) from None
        if not answer.done and answer.finish_reason is None:
            raise IncompleteStreamError(
                "The Cline API stream ended without a finish reason or [DONE]; "
                "the answer may be cut short",
                request_id=request_id,
            )
        for event in answer.finish():
            yield event
        self.result = answer.result()


async def _chunks(reader: BodyReader) -> AsyncGenerator[dict[str, Any] | None, None]:
    """The JSON chunks of an SSE body up to its end, then None if it ended with ``[DONE]``.
    Raises ``SSEDecodeError``, ``ValueError`` (not JSON), ``StreamError`` (not an object, or a
    body past ``MAX_STREAM_BODY``)."""
    decoder = SSEDecoder()
    while (piece := await reader.read()) is not None:
        if reader.size > MAX_STREAM_BODY:
            raise StreamError(
                f"The Cline API stream passed {describe_size(MAX_STREAM_BODY)}; stopped reading"
            )
        for sse in decoder.feed(piece):
            if not sse.data:
                continue  # an event without data (a named ping) is no sign of progress
            if sse.data == "[DONE]":
                yield None
                return
            chunk = loads(sse.data)
            if not isinstance(chunk, dict):
                raise StreamError("The Cline API sent a stream chunk that is not a JSON object")
            yield chunk


class _Answer:
    """What the chunks of one attempt add up to."""

    def __init__(self) -> None:
        self.done = False
        """``[DONE]`` arrived."""
        self.id: str | None = None
        self.model: str | None = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def read(self, chunk: dict[str, Any]) -> list[ChatEvent]:
        if "error" in chunk and (error := error_from_chunk(chunk)) is not None:
            raise error
        events: list[ChatEvent] = []
        self.id = self.id or chunk.get("id")
        self.model = self.model or chunk.get("model")
        # Lenient: an entry of the wrong type is skipped, never a crash.
        for choice in json_objects(chunk.get("choices")):
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                delta = {}
            if content := delta.get("content"):
                self.text.append(content)
                events.append(TextDelta(content))
            if reasoning := delta.get("reasoning") or delta.get("reasoning_content"):
                self.reasoning.append(reasoning)
                events.append(ReasoningDelta(reasoning))
            for call in json_objects(delta.get("tool_calls")):
                events.append(self._merge_tool_call(call))
            if finish := choice.get("finish_reason"):
                if finish == "error" and (error := error_from_chunk(chunk)) is not None:
                    raise error
                self.finish_reason = finish
        if isinstance(usage := chunk.get("usage"), dict) and usage:
            self.usage = Usage.from_wire(usage)
            events.append(UsageUpdate(self.usage))
        return events

    def _merge_tool_call(self, call: dict[str, Any]) -> ToolCallDelta:
        """Join a tool call's pieces by index: id, type and name replace, arguments concatenate."""
        index = call.get("index", 0)
        merged = self.tool_calls.setdefault(index, {"id": None, "name": None, "arguments": ""})
        function = call.get("function") or {}
        if call_id := call.get("id"):
            merged["id"] = call_id
        if name := function.get("name"):
            merged["name"] = name
        if call_type := call.get("type"):
            merged["type"] = call_type
        arguments = function.get("arguments") or ""
        merged["arguments"] += arguments
        return ToolCallDelta(index, call_id, name, arguments)

    def finished_tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(
                id=call["id"] or f"call_{index}",
                name=call["name"] or "",
                arguments=call["arguments"],
                type=call.get("type") or "function",
            )
            for index, call in sorted(self.tool_calls.items())
        ]

    def finish(self) -> list[ChatEvent]:
        events: list[ChatEvent] = []
        if self.tool_calls:
            events.append(ToolCallsDone(self.finished_tool_calls()))
        events.append(Finished(self.finish_reason or "stop"))
        return events

    def result(self) -> ChatResult:
        return ChatResult(
            id=self.id,
            model=self.model,
            text="".join(self.text),
            reasoning="".join(self.reasoning),
            tool_calls=self.finished_tool_calls(),
            finish_reason=self.finish_reason or "stop",
            usage=self.usage,
        )


def json_objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in ``value`` if it is an array; anything else is skipped."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]
