"""The official OpenAI SDK reads the fake's streams the way our client does.

If the SDK and our client agree on text, tool calls and usage for the same bytes, the fake speaks
the real wire format and our client reads it correctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import openai
import pytest

from tests.fakes.cline_api import (
    FakeClineAPI,
    FakeToolCall,
    StreamReply,
    sse,
    text_chunks,
    tool_call_chunks,
    usage,
)
from tests.support.api_client import MODEL, bounded, make_client, stream


@dataclass
class Answer:
    text: str = ""
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(id, name, arguments) in index order."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


async def read_with_openai(fake: FakeClineAPI) -> Answer:
    sdk = openai.AsyncOpenAI(base_url=fake.url, api_key="k", max_retries=0, timeout=10.0)
    answer = Answer()
    calls: dict[int, dict[str, str]] = {}
    async with sdk:
        chunks = await bounded(
            sdk.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        async for chunk in chunks:
            for choice in chunk.choices:
                answer.text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    merged = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    if call.id:
                        merged["id"] = call.id
                    if call.function and call.function.name:
                        merged["name"] = call.function.name
                    if call.function and call.function.arguments:
                        merged["arguments"] += call.function.arguments
                answer.finish_reason = choice.finish_reason or answer.finish_reason
            if chunk.usage is not None:
                answer.prompt_tokens = chunk.usage.prompt_tokens
                answer.completion_tokens = chunk.usage.completion_tokens
    answer.tool_calls = [(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]
    return answer


async def read_with_ours(fake: FakeClineAPI) -> Answer:
    async with make_client(fake, max_retries=0) as client:
        outcome = await stream(client)
    assert outcome.error is None
    result = outcome.result
    assert result is not None
    return Answer(
        text=result.text,
        tool_calls=[(c.id, c.name, c.arguments) for c in result.tool_calls],
        prompt_tokens=result.usage.prompt_tokens if result.usage else None,
        completion_tokens=result.usage.completion_tokens if result.usage else None,
        finish_reason=result.finish_reason,
    )


CALLS = (
    FakeToolCall("call_1", "get_weather", '{"city":"Paris","unit":"C"}'),
    FakeToolCall("call_2", "get_time", '{"tz":"Europe/Paris"}'),
)
STREAMS: dict[str, Any] = {
    "text, usage on the final chunk": lambda: sse(
        text_chunks("The capital", " is Paris.", usage=usage(14, 8))
    ),
    "text, usage on a choices:[] chunk": lambda: sse(
        text_chunks("Hi", " there", usage=usage(25, 42), usage_separate=True)
    ),
    "two interleaved tool calls": lambda: sse(
        tool_call_chunks(*CALLS, interleave=True, piece_size=3, usage=usage(30, 12))
    ),
    "tool calls, usage on a choices:[] chunk": lambda: sse(
        tool_call_chunks(*CALLS, text_before="Checking.", usage=usage(31, 13), usage_separate=True)
    ),
    "text/plain, crlf, comments, split": lambda: sse(
        text_chunks("Grüße", " 😀", usage=usage(3, 4)),
        content_type="text/plain",
        crlf=True,
        comments=True,
        split=5,
    ),
}


@pytest.mark.parametrize("make_stream", STREAMS.values(), ids=STREAMS.keys())
async def test_the_openai_sdk_and_our_client_read_the_same_answer(
    make_stream: Any,
) -> None:
    answers = []
    for reader in (read_with_openai, read_with_ours):
        fake = FakeClineAPI()
        try:
            reply: StreamReply = make_stream()
            fake.script(reply)
            answers.append(await reader(fake))
            [request] = fake.requests
            assert request.json["stream"] is True
            assert request.json["stream_options"] == {"include_usage": True}
        finally:
            fake.close()
    theirs, ours = answers
    assert theirs.prompt_tokens is not None
    assert theirs.text or theirs.tool_calls
    assert ours == theirs
