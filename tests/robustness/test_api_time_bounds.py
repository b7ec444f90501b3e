"""A silent, stalling or chattering API cannot hang the user: every wait of the REST client is
bounded (connect, first byte, idle between data events, one deadline per call), and the CLI says
on stderr when it retries.

Against the fake Cline API over real HTTP on 127.0.0.1, with replies of this file's own for what
the fake does not script: a gateway that only sends keep-alive comments, or goes silent after
its headers.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cline_bridge.api.bounds import TimeBounds
from cline_bridge.api.cline_client import ClineClient
from cline_bridge.api.errors import APITimeoutError, InternalServerError
from cline_bridge.api.events import TextDelta
from tests.fakes.cline_api import (
    FakeClineAPI,
    RecordedRequest,
    Reply,
    hang,
    sse,
    text_chunks,
    text_reply,
)
from tests.support.api_client import HELLO, MODEL, bounded, failure, make_client, wait_event
from tests.support.cli import run_cli
from tests.support.environment import without_cline_settings
from tests.support.raw_peer import raw_sidecar, stop

KEY = "sk-test-TIME-BOUNDS-LEAK-CHECK-4242"
TIMEOUT = 30.0
"""Bound of any subprocess this file runs."""


class KeepAlivesForever(Reply):
    """200 with SSE headers at once, then ``: ping`` comments every ``every`` seconds and never
    any data, until the client hangs up (or the fake closes)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.pings = 0

    def send(self, handler: Any, request: RecordedRequest) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        while True:  # ends with ClientGone or Released, which the fake records
            handler.write_chunk(b": ping\n\n")
            self.pings += 1
            handler.pause(self.every)


class SilentAfterHeaders(Reply):
    """The status and headers, then part of the body (``start``), then nothing."""

    def __init__(self, *, stream: bool, start: bytes = b"") -> None:
        self.stream = stream
        self.start = start

    def send(self, handler: Any, request: RecordedRequest) -> None:
        handler.send_response(200)
        if self.stream:
            handler.send_header("Content-Type", "text/event-stream")
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(self.start) + 1000))
        handler.end_headers()
        if self.start:
            handler.write(
                b"%x\r\n%s\r\n" % (len(self.start), self.start) if self.stream else self.start
            )
        handler.hold(None)


async def disconnected(request: RecordedRequest) -> bool:
    """Whether the client hung up on ``request`` (waited for, bounded)."""
    return await wait_event(request.finished) and request.outcome == "client disconnected"


# -- the client --------------------------------------------------------------------------------


def test_the_defaults_bound_every_wait() -> None:
    client = ClineClient(api_key=KEY)

    assert client.bounds == TimeBounds(connect=10.0, first_byte=60.0, idle=90.0, deadline=600.0)
    assert KEY not in repr(client)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"idle_timeout": 0}, "idle_timeout must be a positive number of seconds, not 0"),
        ({"deadline": float("inf")}, "deadline must be a positive number of seconds"),
        ({"connect_timeout": -1.0}, "connect_timeout must be a positive number"),
    ],
)
def test_a_bound_that_is_not_a_positive_number_is_refused(
    keywords: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ClineClient(api_key=KEY, **keywords)


async def test_a_server_that_never_answers_fails_after_one_first_byte_bound_not_four(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(hang(), hang(), hang(), hang())
    async with make_client(fake_api, api_key=KEY, first_byte_timeout=0.5, max_retries=3) as client:
        started = time.monotonic()
        error = await failure(client, "stream")
        elapsed = time.monotonic() - started

    assert isinstance(error, APITimeoutError)
    assert error.message == "The Cline API did not answer within 0.5 s (POST /chat/completions)"
    assert error.retryable is False
    assert 0.45 <= elapsed < 3
    assert len(fake_api.requests) == 1
    assert await disconnected(fake_api.requests[0])


async def test_a_stream_that_stalls_after_its_headers_fails_at_the_idle_bound(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(SilentAfterHeaders(stream=True), sse(text_chunks("unused")))
    async with make_client(fake_api, api_key=KEY, idle_timeout=0.5) as client:
        error = await failure(client, "stream")

    assert isinstance(error, APITimeoutError)
    assert error.message.startswith("The Cline API stream sent no data for 0.5 s")
    assert len(fake_api.requests) == 1
    assert fake_api.pending == 1
    assert await disconnected(fake_api.requests[0])


async def test_keep_alive_comments_alone_do_not_keep_a_stream_alive(
    fake_api: FakeClineAPI,
) -> None:
    pings = KeepAlivesForever(every=0.05)
    fake_api.script(pings, sse(text_chunks("unused")))
    async with make_client(fake_api, api_key=KEY, idle_timeout=0.6) as client:
        started = time.monotonic()
        error = await failure(client, "stream")
        elapsed = time.monotonic() - started

    assert isinstance(error, APITimeoutError)
    assert "sent no data for 0.6 s (keep-alives do not count)" in error.message
    assert 0.55 <= elapsed < 5
    assert pings.pings >= 5, "the keep-alives were flowing all along"
    assert len(fake_api.requests) == 1
    assert await disconnected(fake_api.requests[0])


async def test_data_events_slower_than_keep_alives_but_within_the_bound_go_through(
    fake_api: FakeClineAPI,
) -> None:
    # Each event comes 0.3 s after the last, with a comment before it: the whole stream takes
    # longer than the idle bound, no gap between data events does.
    fake_api.script(sse(text_chunks("a", "b", "c", "d"), delay=0.3, comments=True))
    async with make_client(fake_api, api_key=KEY, idle_timeout=0.8) as client:
        started = time.monotonic()
        async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
            result = await bounded(chat.final())
        elapsed = time.monotonic() - started

    assert result.text == "abcd"
    assert elapsed > 0.8


async def test_a_slow_consumer_is_not_taken_for_a_silent_server(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("one", "two", "three")))
    texts = []
    async with make_client(fake_api, api_key=KEY, idle_timeout=0.3) as client:

        async def consume() -> None:
            async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
                async for event in chat:
                    if isinstance(event, TextDelta):
                        texts.append(event.text)
                        await asyncio.sleep(0.5)  # longer than the idle bound

        await bounded(consume())

    assert texts == ["one", "two", "three"]


async def test_the_deadline_covers_retries_and_their_waits(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        *[text_reply("busy", 503, headers={"retry-after-ms": "400"}) for _ in range(10)]
    )
    async with make_client(fake_api, api_key=KEY, deadline=1.0, max_retries=10) as client:
        started = time.monotonic()
        error = await failure(client, "plain")
        elapsed = time.monotonic() - started

    # Retries while a 0.4 s wait still ends before the deadline, then the last error.
    assert isinstance(error, InternalServerError)
    assert error.status == 503
    assert elapsed < 1.5
    assert 2 <= len(fake_api.requests) <= 3


async def test_the_deadline_ends_a_stream_that_never_finishes(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks(*["x"] * 200), delay=0.05))
    async with make_client(fake_api, api_key=KEY, deadline=1.0) as client:
        started = time.monotonic()
        error = await failure(client, "stream")
        elapsed = time.monotonic() - started

    assert isinstance(error, APITimeoutError)
    assert error.message == "The Cline API call did not finish within its deadline of 1 s"
    assert 0.95 <= elapsed < 3
    assert len(fake_api.requests) == 1
    assert await disconnected(fake_api.requests[0])


async def test_a_plain_answer_that_stalls_mid_body_fails_at_the_idle_bound(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(SilentAfterHeaders(stream=False, start=b'{"data": ['))
    async with make_client(fake_api, api_key=KEY, idle_timeout=0.5) as client:
        error = await failure(client, "models")

    assert isinstance(error, APITimeoutError)
    assert error.message == "The Cline API stopped sending /models answer mid-way"
    assert len(fake_api.requests) == 1


@pytest.fixture
def full_listener() -> Iterator[int]:
    """A port whose listener never accepts and whose backlog is full: a connection to it hangs
    in the handshake, as one to a host that drops packets does."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            filler.connect_ex(("127.0.0.1", port))
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_connection_that_cannot_be_made_in_time_is_retried(full_listener: int) -> None:
    url = f"http://127.0.0.1:{full_listener}/api/v1"
    async with make_client(url, api_key=KEY, connect_timeout=0.3, max_retries=1) as client:
        started = time.monotonic()
        error = await failure(client, "models")
        elapsed = time.monotonic() - started

    assert isinstance(error, APITimeoutError)
    assert "did not accept a connection within 0.3 s" in error.message
    assert error.retryable is True
    assert 0.55 <= elapsed < 5, "two attempts, each bounded"


# -- the CLI -----------------------------------------------------------------------------------


def cli_env(fake_api: FakeClineAPI, **extra: str) -> dict[str, str]:
    return without_cline_settings(CLINE_API_KEY=KEY, CLINE_API_BASE_URL=fake_api.url, **extra)


def test_the_cli_says_each_retry_on_stderr(fake_api: FakeClineAPI) -> None:
    # The body echoes the key, as a careless gateway might: the retry lines must not.
    busy = f"overloaded (key {KEY})"
    fake_api.script(
        text_reply(busy, 503, headers={"retry-after-ms": "200"}),
        text_reply(busy, 503, headers={"retry-after-ms": "200"}),
        sse(text_chunks("fine")),
    )

    done = run_cli(["chat", "hello"], cli_env(fake_api), TIMEOUT)

    assert (done.returncode, done.stdout) == (0, "fine\n")
    assert done.stderr.splitlines() == [
        f"cline-bridge: Cline API error 503: overloaded (key ***); retry {n} of 3 in 0.2 s"
        for n in (1, 2)
    ]
    assert KEY not in done.stderr


def test_the_cli_takes_its_time_bounds_from_the_environment(fake_api: FakeClineAPI) -> None:
    fake_api.script(hang(), hang())

    started = time.monotonic()
    done = run_cli(
        ["chat", "hello"], cli_env(fake_api, CLINE_API_FIRST_BYTE_TIMEOUT="0.5"), TIMEOUT
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "cline-bridge: The Cline API did not answer within 0.5 s (POST /chat/completions)\n"
    )
    assert elapsed < 15
    assert len(fake_api.requests) == 1


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf", "nan"])
def test_a_time_bound_in_the_environment_that_is_no_positive_number_is_one_line(
    fake_api: FakeClineAPI, value: str
) -> None:
    done = run_cli(["models"], cli_env(fake_api, CLINE_API_IDLE_TIMEOUT=value), TIMEOUT)

    assert done.returncode == 1
    assert done.stderr == (
        "cline-bridge: CLINE_API_IDLE_TIMEOUT must be a positive number of seconds, "
        f"not {value!r}\n"
    )
    assert fake_api.requests == []


async def test_the_sidecar_takes_its_time_bounds_from_its_settings(fake_api: FakeClineAPI) -> None:
    fake_api.script(hang(), hang())
    env = without_cline_settings(CLINE_API_FIRST_BYTE_TIMEOUT="soon")  # logged, then ignored
    async with raw_sidecar(env=env) as sidecar:
        await sidecar.initialize(
            {
                "clineApi": True,
                "apiKey": KEY,
                "apiBaseUrl": fake_api.url,
                "apiTimeouts": {"firstByte": 0.5},
            }
        )
        answer = await sidecar.execute("clineBridge.chat", {"prompt": "hello"})
        status = await sidecar.execute("clineBridge.status")
        log = await stop(sidecar)

    assert answer["error"]["message"] == (
        "The Cline API did not answer within 0.5 s (POST /chat/completions)"
    )
    assert "result" in status, "the sidecar keeps serving"
    assert len(fake_api.requests) == 1
    assert "CLINE_API_FIRST_BYTE_TIMEOUT must be a positive number of seconds" in log
    assert KEY not in log
