"""Retries, timeouts, unreachable servers and cancellation, against the fake over real HTTP."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time

import httpx
import pytest

from cline_bridge.api.errors import (
    APIConnectionError,
    APITimeoutError,
    ClineAPIError,
    InternalServerError,
    RateLimitError,
    StreamError,
)
from cline_bridge.api.events import TextDelta
from tests.fakes.cline_api import (
    ERROR_REPLIES,
    FakeClineAPI,
    StaticReply,
    content_chunk,
    error_top_level_chunk,
    hang,
    json_reply,
    role_chunk,
    sse,
    text_chunks,
    text_reply,
)
from tests.support.api_client import (
    HELLO,
    MODEL,
    bounded,
    failure,
    make_client,
    stream,
    wait_event,
)

OK_COMPLETION = {
    "id": "gen-1",
    "model": MODEL,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}


def rate_limited(**headers: str) -> StaticReply:
    return json_reply(
        {"error": {"code": 429, "message": "Rate limit exceeded"}},
        429,
        headers={"x-request-id": "req-429", **headers},
    )


@pytest.mark.parametrize("kind", ["stream", "plain"])
async def test_429_with_retry_after_zero_then_success(fake_api: FakeClineAPI, kind: str) -> None:
    fake_api.script(
        rate_limited(**{"retry-after": "0"}),
        sse(text_chunks("ok")) if kind == "stream" else json_reply(OK_COMPLETION),
    )
    async with make_client(fake_api) as client:
        if kind == "stream":
            outcome = await stream(client)
            assert outcome.error is None
            assert outcome.text == "ok"
        else:
            result = await bounded(client.chat(model=MODEL, messages=HELLO))
            assert result.text == "ok"
    assert len(fake_api.requests) == 2
    assert fake_api.requests[0].json == fake_api.requests[1].json


async def test_retry_after_ms_is_honoured(fake_api: FakeClineAPI) -> None:
    fake_api.script(rate_limited(**{"retry-after-ms": "400"}), sse(text_chunks("ok")))
    async with make_client(fake_api) as client:
        start = time.monotonic()
        outcome = await stream(client)
        elapsed = time.monotonic() - start
    assert outcome.text == "ok"
    assert len(fake_api.requests) == 2
    # backoff_base is 0.01 s, so only the header explains a wait this long.
    assert elapsed >= 0.38


async def test_retry_after_seconds_is_honoured(fake_api: FakeClineAPI) -> None:
    fake_api.script(rate_limited(**{"retry-after": "1"}), json_reply(OK_COMPLETION))
    async with make_client(fake_api) as client:
        start = time.monotonic()
        result = await bounded(client.chat(model=MODEL, messages=HELLO))
        elapsed = time.monotonic() - start
    assert result.text == "ok"
    assert elapsed >= 0.95


@pytest.mark.parametrize("name", ["500 plain", "502 html", "503 plain", "504 html"])
@pytest.mark.parametrize("kind", ["stream", "plain"])
async def test_server_errors_are_retried(fake_api: FakeClineAPI, name: str, kind: str) -> None:
    fake_api.script(
        ERROR_REPLIES[name](),
        sse(text_chunks("ok")) if kind == "stream" else json_reply(OK_COMPLETION),
    )
    async with make_client(fake_api) as client:
        if kind == "stream":
            outcome = await stream(client)
            assert outcome.error is None
            assert outcome.text == "ok"
        else:
            assert (await bounded(client.chat(model=MODEL, messages=HELLO))).text == "ok"
    assert len(fake_api.requests) == 2


async def test_three_failures_then_success_within_max_retries(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        ERROR_REPLIES["503 plain"](),
        ERROR_REPLIES["502 html"](),
        rate_limited(),
        sse(text_chunks("finally")),
    )
    async with make_client(fake_api, max_retries=3) as client:
        outcome = await stream(client)
    assert outcome.text == "finally"
    assert len(fake_api.requests) == 4


NEVER_RETRIED = [
    "400 documented",
    "401 documented",
    "401 success false",
    "402 insufficient credits",
    "403 region",
    "403 entitlement",
    "404 model",
    # A limit that resets at a stated time, hours away: retrying only burns requests.
    "429 spend limit",
    "429 inference cap",
]


@pytest.mark.parametrize("name", NEVER_RETRIED)
@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_client_errors_and_hard_limits_are_never_retried(
    fake_api: FakeClineAPI, name: str, kind: str
) -> None:
    fake_api.script(ERROR_REPLIES[name](), sse(text_chunks("must not be asked for")))
    async with make_client(fake_api) as client:
        error = await failure(client, kind)
    assert isinstance(error, ClineAPIError)
    assert error.retryable is False
    assert len(fake_api.requests) == 1
    assert fake_api.pending == 1


@pytest.mark.parametrize("kind", ["stream", "plain"])
async def test_exhausted_retries_raise_the_last_error(fake_api: FakeClineAPI, kind: str) -> None:
    fake_api.script(
        *[text_reply(f"overloaded {n}", 503, headers={"x-request-id": f"r-{n}"}) for n in range(4)]
    )
    async with make_client(fake_api, max_retries=3) as client:
        error = await failure(client, kind)
    assert isinstance(error, InternalServerError)
    assert error.status == 503
    assert error.request_id == "r-3"
    assert "overloaded 3" in error.message
    assert len(fake_api.requests) == 4


async def test_max_retries_zero_sends_once(fake_api: FakeClineAPI) -> None:
    fake_api.script(ERROR_REPLIES["503 plain"](), sse(text_chunks("unused")))
    async with make_client(fake_api, max_retries=0) as client:
        outcome = await stream(client)
    assert isinstance(outcome.error, InternalServerError)
    assert len(fake_api.requests) == 1


@pytest.mark.parametrize("kind", ["stream", "plain"])
async def test_a_retry_after_beyond_the_cap_fails_at_once_saying_when(
    fake_api: FakeClineAPI, kind: str
) -> None:
    fake_api.script(rate_limited(**{"retry-after": "3600"}), sse(text_chunks("unused")))
    async with make_client(fake_api) as client:
        start = time.monotonic()
        error = await failure(client, kind)
        elapsed = time.monotonic() - start
    assert isinstance(error, RateLimitError)
    assert error.retry_after == pytest.approx(3600, abs=2)
    assert error.retryable is False
    assert re.search(r"\b1\s*h|60\s*min|3600\s*s", error.message), error.message
    assert "\n" not in error.message
    assert len(fake_api.requests) == 1
    assert elapsed < 5


async def test_the_daily_free_cap_fails_at_once_with_its_wait(fake_api: FakeClineAPI) -> None:
    fake_api.script(ERROR_REPLIES["429 inference cap"](), sse(text_chunks("unused")))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    error = outcome.error
    assert isinstance(error, RateLimitError)
    assert error.code == "INFERENCE_CAP_ERROR"
    assert "Try again in 19h 39m" in error.message
    assert error.retry_after == pytest.approx(19 * 3600 + 39 * 60)
    assert error.retryable is False
    assert len(fake_api.requests) == 1


async def test_a_no_retry_header_stops_retries_of_a_server_error(fake_api: FakeClineAPI) -> None:
    fake_api.script(text_reply("down", 503, headers={"no-retry": "true"}), sse(text_chunks("x")))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert isinstance(outcome.error, InternalServerError)
    assert len(fake_api.requests) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_connection_refused_is_a_connection_error(kind: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v1"
    async with make_client(url, max_retries=2) as client:
        error = await failure(client, kind)
    assert isinstance(error, APIConnectionError)
    assert not isinstance(error, APITimeoutError)
    assert error.retryable is True
    assert error.status is None
    assert "\n" not in error.message


async def test_a_server_that_never_answers_times_out_without_retry(
    fake_api: FakeClineAPI,
) -> None:
    # A server silent for the first-byte bound rarely answers the next request sooner: retrying
    # would multiply the wait, so the time-out is raised at once.
    fake_api.script(hang(), hang())
    timeout = httpx.Timeout(5.0, read=0.3, connect=2.0)
    async with make_client(fake_api, timeout=timeout, max_retries=1) as client:
        error = await failure(client, "stream")
    assert isinstance(error, APITimeoutError)
    assert error.retryable is False
    assert "did not answer within 0.3 s" in error.message
    assert len(fake_api.requests) == 1
    assert await wait_event(fake_api.requests[0].finished)
    assert fake_api.requests[0].outcome == "client disconnected"


async def test_a_plain_chat_that_never_answers_ends_at_the_deadline(
    fake_api: FakeClineAPI,
) -> None:
    # A non-streamed answer comes whole once the model is done: only the deadline bounds it.
    fake_api.script(hang(), hang())
    timeout = httpx.Timeout(5.0, read=0.3, connect=2.0)
    async with make_client(fake_api, timeout=timeout, deadline=1.0, max_retries=1) as client:
        start = time.monotonic()
        error = await failure(client, "plain")
        elapsed = time.monotonic() - start
    assert isinstance(error, APITimeoutError)
    assert "deadline of 1 s" in error.message
    assert 0.9 <= elapsed < 5
    assert len(fake_api.requests) == 1
    assert await wait_event(fake_api.requests[0].finished)
    assert fake_api.requests[0].outcome == "client disconnected"


async def test_a_stream_that_stalls_after_output_times_out_without_retry(
    fake_api: FakeClineAPI,
) -> None:
    never = threading.Event()
    fake_api.script(
        sse(text_chunks("so far"), gate=never, gate_after=2), sse(text_chunks("unused"))
    )
    timeout = httpx.Timeout(5.0, read=0.3, connect=2.0)
    async with make_client(fake_api, timeout=timeout) as client:
        outcome = await stream(client)
    assert outcome.text == "so far"
    assert isinstance(outcome.error, APITimeoutError)
    assert len(fake_api.requests) == 1


async def test_no_retry_once_output_reached_the_caller(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        sse([role_chunk(), content_chunk("partial"), error_top_level_chunk(503, "overloaded")]),
        sse(text_chunks("must not be asked for")),
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.text == "partial"
    assert isinstance(outcome.error, StreamError)
    assert len(fake_api.requests) == 1
    assert fake_api.pending == 1


async def test_cancelling_the_consumer_closes_the_connection(fake_api: FakeClineAPI) -> None:
    never = threading.Event()
    fake_api.script(sse(text_chunks("first", " never sent"), gate=never, gate_after=2))
    first_text = asyncio.Event()
    kept: list[object] = []

    async with make_client(fake_api) as client:

        async def consume() -> None:
            async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
                events = aiter(chat)
                kept.append(events)  # so that the garbage collector cannot close it for us
                async for event in events:
                    if isinstance(event, TextDelta):
                        first_text.set()
                        # Busy with the event (say, forwarding it to the editor) when the
                        # cancel comes: the stream is not being read at that moment.
                        await asyncio.sleep(3600)

        task = asyncio.create_task(consume())
        await bounded(first_text.wait())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await bounded(task)
        # The server sees the connection go away long before its own 30 s bound.
        assert await wait_event(fake_api.requests[0].finished, timeout=3)
        assert fake_api.requests[0].outcome == "client disconnected"


async def test_cancelling_a_slow_stream_stops_the_download(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks(*[f"{n} " for n in range(500)]), delay=0.02))
    received = 0
    streaming = asyncio.Event()

    async with make_client(fake_api) as client:

        async def consume() -> None:
            nonlocal received
            async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
                async for event in chat:
                    if isinstance(event, TextDelta):
                        received += 1
                        if received == 3:
                            streaming.set()

        task = asyncio.create_task(consume())
        await bounded(streaming.wait())  # the download is under way
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await bounded(task)
        assert await wait_event(fake_api.requests[0].finished, timeout=3)
    assert 3 <= received < 500
    assert fake_api.requests[0].outcome == "client disconnected"


async def test_leaving_the_loop_early_closes_the_connection(fake_api: FakeClineAPI) -> None:
    never = threading.Event()
    fake_api.script(sse(text_chunks("first", " second"), gate=never, gate_after=2))
    async with make_client(fake_api) as client:
        async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
            # Keep the iterator referenced: only leaving the block may close the response, not
            # the garbage collector finalising an abandoned generator.
            events = aiter(chat)
            async for event in events:
                if isinstance(event, TextDelta):
                    break
        assert await wait_event(fake_api.requests[0].finished, timeout=3)
        assert fake_api.requests[0].outcome == "client disconnected"
        del events


async def test_a_503_with_retry_after_waits_as_asked(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        text_reply("maintenance", 503, headers={"retry-after-ms": "400"}), json_reply(OK_COMPLETION)
    )
    async with make_client(fake_api) as client:
        start = time.monotonic()
        result = await bounded(client.chat(model=MODEL, messages=HELLO))
        elapsed = time.monotonic() - start
    assert result.text == "ok"
    assert len(fake_api.requests) == 2
    # backoff_base is 0.01 s, so only the header explains a wait this long.
    assert elapsed >= 0.38
