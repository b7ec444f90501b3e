"""What a misbehaving API sends cannot crash the REST client nor make it read without end: odd
retry headers, JSON nested 100,000 deep, a 32 MB stream line, decompression bombs. Each gives one
clear ``ClineAPIError``, read within fixed bounds, never a traceback of another kind.

Against the fake Cline API over real HTTP on 127.0.0.1; compressed bodies are the fake's static
replies with a ``Content-Encoding`` header.
"""

from __future__ import annotations

import functools
import json
import tracemalloc
import zlib
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from cline_bridge.api.constants import LONGEST_WAIT, MAX_JSON_DEPTH
from cline_bridge.api.errors import (
    AuthenticationError,
    BadRequestError,
    ClineAPIError,
    RateLimitError,
    StreamError,
)
from cline_bridge.api.retry import parse_retry_after
from cline_bridge.api.safe_json import JSONTooDeepError, loads
from tests.fakes.cline_api import (
    FakeClineAPI,
    StaticReply,
    json_reply,
    sse,
    text_chunks,
    text_reply,
)
from tests.support.api_client import HELLO, MODEL, bounded, failure, make_client, stream

T = TypeVar("T")

KEY = "sk-test-HOSTILE-LEAK-CHECK-7777"
DEEP = 100_000
BOMB_SIZE = 256 * 1024 * 1024
"""What the bombs inflate to; the client must stop long before."""
OK_COMPLETION = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}


def one_clear_line(error: ClineAPIError) -> None:
    assert error.message
    assert "\n" not in error.message
    assert len(error.message) <= 400
    assert KEY not in repr(vars(error))


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


@functools.cache
def gzip_bomb(size: int = BOMB_SIZE, prefix: bytes = b"") -> bytes:
    """``prefix`` then zeros up to ``size`` bytes, gzipped (about 1 KiB per MiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [packer.compress(prefix)]
    parts += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def compressed(
    body: bytes, status: int = 200, encoding: str = "gzip", content_type: str = "application/json"
) -> StaticReply:
    return StaticReply(
        status=status, body=body, content_type=content_type, headers={"Content-Encoding": encoding}
    )


async def peak_memory_of(work: Awaitable[T]) -> tuple[T, int]:
    """The result of ``work`` and the most memory Python held for it at once (bytes)."""
    tracemalloc.start()
    try:
        result = await bounded(work, timeout=60)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- retry headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "inf"},
        {"retry-after": "1e20"},
        {"retry-after": "1e400"},
        {"retry-after-ms": "inf"},
        {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"x-ratelimit-reset": "1e20"},
        {"ratelimit-reset": "-inf"},
    ],
)
def test_an_absurd_wait_is_clamped_to_a_finite_number(headers: dict[str, str]) -> None:
    wait = parse_retry_after(headers, now=1_800_000_000.0)

    assert wait is not None
    assert 0.0 <= wait <= LONGEST_WAIT


@pytest.mark.parametrize(
    "headers",
    [{"retry-after": "nan"}, {"retry-after-ms": "NaN"}, {"x-ratelimit-reset": "nan"}],
)
def test_a_wait_that_is_not_a_number_is_no_wait(headers: dict[str, str]) -> None:
    assert parse_retry_after(headers, now=1_800_000_000.0) is None


def test_a_huge_try_again_in_is_clamped() -> None:
    wait = parse_retry_after({}, "Try again in 999999d 999999h", now=1_800_000_000.0)

    assert wait == LONGEST_WAIT


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "inf"},
        {"retry-after": "1e20"},
        {"x-ratelimit-reset": "1e20"},
        {"retry-after-ms": "1e400"},
    ],
)
@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_an_absurd_retry_header_is_one_clear_error(
    fake_api: FakeClineAPI, headers: dict[str, str], kind: str
) -> None:
    fake_api.script(
        json_reply({"error": {"message": "slow down"}}, 429, headers=headers),
        sse(text_chunks("unused")),
    )
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, kind)

    assert isinstance(error, RateLimitError)
    assert error.retryable is False
    assert error.message.startswith("Cline API error 429: slow down; the API asks to wait 744 h")
    one_clear_line(error)
    assert len(fake_api.requests) == 1


async def test_a_retry_after_that_is_not_a_number_falls_back_to_backoff(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(
        json_reply({"error": "slow down"}, 429, headers={"retry-after": "nan"}),
        sse(text_chunks("ok")),
    )
    async with make_client(fake_api, api_key=KEY) as client:
        outcome = await stream(client)

    assert (outcome.error, outcome.text) == (None, "ok")
    assert len(fake_api.requests) == 2


# -- JSON nested too deep ----------------------------------------------------------------------


def test_safe_json_refuses_any_nesting_past_the_bound_and_reads_the_rest() -> None:
    assert loads(deep_json(MAX_JSON_DEPTH)) is not None
    assert loads('{"a": "[[[[[[[[' + "[" * 500 + '"}') == {"a": "[" * 508}
    for depth in (MAX_JSON_DEPTH + 1, 900, DEEP):
        with pytest.raises(JSONTooDeepError):
            loads(deep_json(depth))
        with pytest.raises(JSONTooDeepError):
            loads(('{"a":' * depth + "1" + "}" * depth).encode())


@pytest.mark.parametrize("depth", [900, DEEP])
@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_an_error_body_nested_too_deep_is_one_clear_error(
    fake_api: FakeClineAPI, depth: int, kind: str
) -> None:
    fake_api.script(text_reply('{"error": ' + deep_json(depth) + "}", 400))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, kind)

    assert isinstance(error, BadRequestError)
    assert error.message == (
        "Cline API error 400: the error body is not readable JSON (nested too deep)"
    )
    one_clear_line(error)


async def test_an_error_string_holding_deep_json_is_one_clear_error(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(json_reply({"error": deep_json(DEEP)}, 401))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "plain")

    assert isinstance(error, AuthenticationError)
    one_clear_line(error)


@pytest.mark.parametrize("kind", ["plain", "models"])
async def test_an_answer_nested_too_deep_is_one_clear_error(
    fake_api: FakeClineAPI, kind: str
) -> None:
    fake_api.script(text_reply(deep_json(DEEP), 200, "application/json"))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, kind)

    assert "nested too deep to read" in error.message
    assert error.retryable is False
    one_clear_line(error)
    assert len(fake_api.requests) == 1


@pytest.mark.parametrize("depth", [900, DEEP])
async def test_a_stream_chunk_nested_too_deep_is_one_clear_error_not_retried(
    fake_api: FakeClineAPI, depth: int
) -> None:
    fake_api.script(
        sse(["data: " + '{"choices": ' + deep_json(depth) + "}"]), sse(text_chunks("unused"))
    )
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "stream")

    assert isinstance(error, StreamError)
    assert error.message == "The Cline API sent a chunk nested too deep to read"
    assert len(fake_api.requests) == 1
    assert fake_api.pending == 1


# -- sizes -------------------------------------------------------------------------------------


async def test_a_32_mb_stream_line_fails_once_and_is_not_retried(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        sse(["data: " + "x" * (32 * 1024 * 1024)]), sse(["data: " + "x" * (32 * 1024 * 1024)])
    )
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "stream")

    assert isinstance(error, StreamError)
    assert error.message == (
        "The Cline API sent a stream the bridge cannot read: "
        "a stream line is longer than 8388608 bytes"
    )
    assert error.retryable is False
    assert len(fake_api.requests) == 1
    assert fake_api.pending == 1


@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_a_gzip_bomb_error_body_is_read_only_to_its_bound(
    fake_api: FakeClineAPI, kind: str
) -> None:
    fake_api.script(compressed(gzip_bomb(prefix=b"Invalid key\n"), status=401))
    async with make_client(fake_api, api_key=KEY) as client:
        error, peak = await peak_memory_of(failure(client, kind))

    assert isinstance(error, AuthenticationError)
    assert error.message == "Cline API error 401: Invalid key; check the Cline API key"
    one_clear_line(error)
    assert peak < 16 * 1024 * 1024, f"{peak} bytes held to read a 64 KiB error body"


@pytest.mark.parametrize("kind", ["plain", "models"])
async def test_a_gzip_bomb_answer_is_refused_at_its_bound(
    fake_api: FakeClineAPI, kind: str
) -> None:
    fake_api.script(compressed(gzip_bomb()), json_reply(OK_COMPLETION))
    async with make_client(fake_api, api_key=KEY) as client:
        error, peak = await peak_memory_of(failure(client, kind))

    assert "larger than 16 MiB; refused" in error.message
    assert error.retryable is False
    assert peak < 48 * 1024 * 1024, f"{peak} bytes held to refuse a 16 MiB answer"
    assert len(fake_api.requests) == 1


async def test_a_gzip_bomb_stream_is_cut_at_its_line_bound(fake_api: FakeClineAPI) -> None:
    # Zeros after "data: ": one endless line.
    fake_api.script(compressed(gzip_bomb(prefix=b"data: "), content_type="text/event-stream"))
    async with make_client(fake_api, api_key=KEY) as client:
        error, peak = await peak_memory_of(failure(client, "stream"))

    assert isinstance(error, StreamError)
    assert "a stream line is longer than 8388608 bytes" in error.message
    assert peak < 48 * 1024 * 1024


async def test_an_answer_over_the_size_bound_is_refused(fake_api: FakeClineAPI) -> None:
    models = [{"id": f"vendor/model-{n}", "description": "d" * 1000} for n in range(20_000)]
    fake_api.script(json_reply({"data": models}))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "models")

    assert error.message == "The Cline API sent /models answer larger than 16 MiB; refused"


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
async def test_an_encoding_that_was_not_asked_for_is_one_clear_error(
    fake_api: FakeClineAPI, encoding: str
) -> None:
    fake_api.script(compressed(b"\x00\x01garbage", encoding=encoding))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "models")

    assert error.message.startswith(
        "The Cline API answered in an encoding the bridge does not read"
    )
    assert fake_api.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_corrupt_gzip_body_is_one_clear_error(fake_api: FakeClineAPI) -> None:
    fake_api.script(compressed(gzip_bomb(size=1024 * 1024)[:-4] + b"\xff" * 64))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "models")

    assert error.message == "The Cline API sent a body that cannot be decompressed (gzip)"


# -- compressed answers still read (the bounded reader decompresses them itself) ---------------


def deflated(data: bytes, *, raw: bool) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def gzipped(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzipped),
        ("x-gzip", gzipped),
        ("deflate", functools.partial(deflated, raw=False)),
        ("deflate", functools.partial(deflated, raw=True)),
        ("identity", lambda data: data),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "identity"],
)
async def test_compressed_answers_and_streams_are_read(
    fake_api: FakeClineAPI, encoding: str, pack: Any
) -> None:
    models = {"data": [{"id": f"vendor/model-{n}"} for n in range(2000)]}
    stream_body = b"".join(
        b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in text_chunks("he", "llo")
    )
    fake_api.script(
        compressed(pack(json.dumps(models).encode()), encoding=encoding),
        compressed(pack(stream_body + b"data: [DONE]\n\n"), encoding=encoding),
        compressed(pack(json.dumps(OK_COMPLETION).encode()), encoding=encoding),
    )
    async with make_client(fake_api, api_key=KEY) as client:
        listed = await bounded(client.list_models())
        outcome = await stream(client)
        answer = await bounded(client.chat(model=MODEL, messages=HELLO))

    assert len(listed) == 2000
    assert (outcome.error, outcome.text) == (None, "hello")
    assert answer.text == "ok"
