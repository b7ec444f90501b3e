"""Error bodies become typed errors; in-band and truncated streams fail after their output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cline_bridge.api.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClineAPIError,
    IncompleteStreamError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)
from cline_bridge.api.events import TextDelta
from tests.fakes.cline_api import (
    ERROR_REPLIES,
    FakeClineAPI,
    content_chunk,
    error_choice_chunk,
    error_top_level_chunk,
    json_reply,
    role_chunk,
    sse,
    text_chunks,
    text_reply,
)
from tests.support.api_client import HELLO, MODEL, bounded, make_client, stream

KEY = "sk-test-LEAK-CHECK-1234"


@dataclass(frozen=True)
class Expected:
    cls: type[APIStatusError]
    status: int
    code: str | None
    says: str
    """A fragment the one-line message must contain."""
    retryable: bool


EXPECTED: dict[str, Expected] = {
    "400 documented": Expected(BadRequestError, 400, "400", "messages: field required", False),
    "401 documented": Expected(AuthenticationError, 401, "401", "Invalid API key", False),
    "401 success false": Expected(AuthenticationError, 401, None, "Unauthorized", False),
    "401 live string": Expected(AuthenticationError, 401, None, "latest version of Cline", False),
    "402 insufficient credits": Expected(
        InsufficientCreditsError, 402, "insufficient_credits", "Not enough credits", False
    ),
    "403 region": Expected(PermissionDeniedError, 403, None, "not available in your region", False),
    "403 entitlement": Expected(
        PermissionDeniedError,
        403,
        "ENTITLEMENT_ERROR",
        "not subscribed to required model plan",
        False,
    ),
    "404 model": Expected(NotFoundError, 404, None, "model not found", False),
    "429 spend limit": Expected(
        RateLimitError, 429, "SPEND_LIMIT_EXCEEDED", "resets at 2026-09-01T00:00:00Z", False
    ),
    "429 inference cap": Expected(
        RateLimitError, 429, "INFERENCE_CAP_ERROR", "Try again in 19h 39m", False
    ),
    "500 plain": Expected(InternalServerError, 500, None, "Internal Server Error", True),
    "502 html": Expected(InternalServerError, 502, None, "502", True),
    "503 plain": Expected(InternalServerError, 503, None, "upstream connect error", True),
    "504 html": Expected(InternalServerError, 504, None, "504", True),
}


def test_every_canned_error_has_an_expectation() -> None:
    assert set(EXPECTED) == set(ERROR_REPLIES)


def check_error(error: BaseException | None, name: str) -> None:
    expected = EXPECTED[name]
    assert isinstance(error, expected.cls), repr(error)
    assert isinstance(error, APIStatusError)
    assert error.status == expected.status
    assert error.code == expected.code
    assert error.request_id == ERROR_REPLIES[name]().headers["x-request-id"]
    assert error.retryable is expected.retryable
    message = error.message
    assert expected.says in message
    assert message in str(error)
    # One human line: no raw JSON, no HTML, not the whole body.
    assert "\n" not in message
    assert "{" not in message
    assert "<" not in message
    assert len(message) <= 300
    assert KEY not in str(error)
    assert KEY not in repr(error)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_error_bodies_of_a_plain_call(fake_api: FakeClineAPI, name: str) -> None:
    fake_api.script(ERROR_REPLIES[name]())
    async with make_client(fake_api, api_key=KEY, max_retries=0) as client:
        with pytest.raises(ClineAPIError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    check_error(caught.value, name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_error_bodies_of_a_stream(fake_api: FakeClineAPI, name: str) -> None:
    fake_api.script(ERROR_REPLIES[name]())
    async with make_client(fake_api, api_key=KEY, max_retries=0) as client:
        outcome = await stream(client)
    assert outcome.events == []
    check_error(outcome.error, name)


@pytest.mark.parametrize("name", ["401 documented", "404 model"])
async def test_error_bodies_of_list_models(fake_api: FakeClineAPI, name: str) -> None:
    fake_api.script(ERROR_REPLIES[name]())
    async with make_client(fake_api, api_key=KEY, max_retries=0) as client:
        with pytest.raises(ClineAPIError) as caught:
            await bounded(client.list_models())
    check_error(caught.value, name)


async def test_the_request_id_header_without_x(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply({"error": "model not found"}, 404, headers={"request-id": "r-9"}))
    async with make_client(fake_api, max_retries=0) as client:
        with pytest.raises(NotFoundError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    assert caught.value.request_id == "r-9"


async def test_an_unlisted_status_is_still_a_status_error(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply({"error": {"message": "Payload too large"}}, 413))
    async with make_client(fake_api, max_retries=0) as client:
        with pytest.raises(APIStatusError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    assert caught.value.status == 413
    assert "Payload too large" in caught.value.message
    assert caught.value.retryable is False
    assert len(fake_api.requests) == 1


async def test_an_empty_error_body(fake_api: FakeClineAPI) -> None:
    fake_api.script(text_reply("", 401))
    async with make_client(fake_api, max_retries=0) as client:
        with pytest.raises(AuthenticationError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    assert "401" in caught.value.message


# -- in-band errors ---------------------------------------------------------------------------


async def test_a_mid_stream_error_choice_comes_after_the_partial_text(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(
        sse(
            [role_chunk(), content_chunk("Par"), content_chunk("tial"), error_choice_chunk()],
            headers={"x-request-id": "req-mid"},
        )
    )
    async with make_client(fake_api, api_key=KEY) as client:
        outcome = await stream(client)
    assert outcome.of(TextDelta) == [TextDelta("Par"), TextDelta("tial")]
    error = outcome.error
    assert isinstance(error, StreamError)
    assert not isinstance(error, IncompleteStreamError)
    assert error.code == "context_length_exceeded"
    assert "maximum context length" in error.message
    assert "{" not in error.message
    assert error.request_id == "req-mid"
    assert error.retryable is False
    assert outcome.result is None
    assert len(fake_api.requests) == 1


async def test_a_top_level_error_chunk_comes_after_the_partial_text(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(
        sse(
            [
                role_chunk(),
                content_chunk("Half an answer"),
                error_top_level_chunk(
                    502, "Upstream stream ended before terminal chunk", metadata={"p": "kimi"}
                ),
            ],
            headers={"x-request-id": "req-top"},
        )
    )
    async with make_client(fake_api, api_key=KEY) as client:
        outcome = await stream(client)
    assert outcome.text == "Half an answer"
    error = outcome.error
    assert isinstance(error, StreamError)
    assert error.code == "502"
    assert "Upstream stream ended before terminal chunk" in error.message
    assert "{" not in error.message
    assert error.request_id == "req-top"
    # Transient by its code, but text already reached the caller: surfaced, not retried.
    assert len(fake_api.requests) == 1


async def test_a_mid_stream_error_in_a_plain_answer(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply({"choices": [error_choice_chunk()["choices"][0]]}))
    async with make_client(fake_api, max_retries=0) as client:
        with pytest.raises(StreamError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    assert caught.value.code == "context_length_exceeded"


async def test_a_transient_in_band_error_before_any_output_is_retried(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(
        sse([role_chunk(), error_top_level_chunk(503, "upstream overloaded")]),
        sse(text_chunks("Fine now.")),
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.text == "Fine now."
    assert len(fake_api.requests) == 2


async def test_a_permanent_in_band_error_before_any_output_is_not_retried(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(sse([role_chunk(), error_choice_chunk()]), sse(text_chunks("unused")))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert isinstance(outcome.error, StreamError)
    assert outcome.events == []
    assert len(fake_api.requests) == 1


# -- truncated streams ------------------------------------------------------------------------


async def test_a_premature_close_comes_after_the_partial_text(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        sse(text_chunks("Hel", "lo", " there"), close_after=3, headers={"x-request-id": "r-c"})
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.text == "Hello"
    assert isinstance(outcome.error, IncompleteStreamError)
    assert outcome.error.retryable is True
    assert outcome.error.request_id == "r-c"
    assert outcome.result is None
    assert len(fake_api.requests) == 1
    assert fake_api.requests[0].outcome == "closed early"


async def test_a_clean_end_without_done_or_finish_reason_is_incomplete(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(sse([role_chunk(), content_chunk("cut sh")], done=False))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.text == "cut sh"
    assert isinstance(outcome.error, IncompleteStreamError)
    assert outcome.error.retryable is True
    assert "{" not in outcome.error.message
    assert len(fake_api.requests) == 1


async def test_an_empty_stream_is_incomplete(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse([], done=False))
    async with make_client(fake_api, max_retries=0) as client:
        outcome = await stream(client)
    assert outcome.events == []
    assert isinstance(outcome.error, IncompleteStreamError)


async def test_a_premature_close_before_any_output_is_retried(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("one"), close_after=1), sse(text_chunks("one", " two")))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.text == "one two"
    assert outcome.result is not None
    assert outcome.result.text == "one two"
    assert len(fake_api.requests) == 2


async def test_an_incomplete_stream_is_retried_only_up_to_the_limit(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(*[sse([role_chunk()], done=False) for _ in range(3)])
    async with make_client(fake_api, max_retries=2) as client:
        outcome = await stream(client)
    assert isinstance(outcome.error, IncompleteStreamError)
    assert len(fake_api.requests) == 3


async def test_a_mid_stream_error_takes_the_request_id_header_without_x(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(
        sse([role_chunk(), content_chunk("a"), error_choice_chunk()], headers={"request-id": "r-7"})
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert isinstance(outcome.error, StreamError)
    assert outcome.error.request_id == "r-7"


NOT_AN_OBJECT = "The Cline API sent a stream chunk that is not a JSON object"
MALFORMED_CHUNKS: dict[str, tuple[str, str | None]] = {
    # What the chunk says, and the error it ends the stream with (None: it is skipped).
    "a number": ("42", NOT_AN_OBJECT),
    "a string": ('"text"', NOT_AN_OBJECT),
    "an array": ("[1, 2]", NOT_AN_OBJECT),
    "null": ("null", NOT_AN_OBJECT),
    "a null choice": ('{"choices": [null]}', None),
    "a string delta": ('{"choices": [{"index": 0, "delta": "x"}]}', None),
    "a null tool call": ('{"choices": [{"index": 0, "delta": {"tool_calls": [null]}}]}', None),
}


@pytest.mark.parametrize(("data", "error"), MALFORMED_CHUNKS.values(), ids=MALFORMED_CHUNKS.keys())
async def test_a_malformed_chunk_is_an_api_error_or_skipped(
    fake_api: FakeClineAPI, data: str, error: str | None
) -> None:
    # Lenient parsing (reference §9): a chunk that is no object ends the stream with a
    # ClineAPIError; an odd part of an object is skipped. Never a TypeError or AttributeError,
    # which callers, who catch ClineAPIError, would not expect.
    fake_api.script(sse([role_chunk(), content_chunk("a"), "data: " + data, *text_chunks("b")[1:]]))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    if error is None:
        assert (outcome.text, outcome.error) == ("ab", None)
    else:
        assert outcome.text == "a"
        assert isinstance(outcome.error, StreamError)
        assert outcome.error.message == error


MALFORMED_ANSWERS: dict[str, tuple[object, dict[str, object] | str]] = {
    # The body, and what the client makes of it: the result's fields, or the error's message.
    "a string message": (
        {"choices": [{"message": "hello", "finish_reason": "stop"}]},
        {"text": "hello", "tool_calls": [], "finish_reason": "stop"},
    ),
    "a null tool call": (
        {"choices": [{"message": {"role": "assistant", "tool_calls": [None]}}]},
        {"text": "", "tool_calls": [], "finish_reason": None},
    ),
    "an array": ([1, 2], "The Cline API answered with something that is not a completion"),
}


@pytest.mark.parametrize(
    ("body", "expected"), MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys()
)
async def test_a_malformed_plain_answer_is_an_api_error_or_read(
    fake_api: FakeClineAPI, body: object, expected: dict[str, object] | str
) -> None:
    fake_api.script(json_reply(body))
    async with make_client(fake_api, max_retries=0) as client:
        if isinstance(expected, str):
            with pytest.raises(ClineAPIError) as raised:
                await bounded(client.chat(model=MODEL, messages=HELLO))
            assert raised.value.message == expected
        else:
            result = await bounded(client.chat(model=MODEL, messages=HELLO))
            assert {key: getattr(result, key) for key in expected} == expected
