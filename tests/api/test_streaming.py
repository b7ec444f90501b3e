"""Streamed answers: typed events from every framing and chunk shape the reference lists."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from cline_bridge.api.events import (
    Finished,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallsDone,
    UsageUpdate,
)
from tests.fakes.cline_api import (
    FakeClineAPI,
    FakeToolCall,
    chunk,
    content_chunk,
    finish_chunk,
    reasoning_chunk,
    role_chunk,
    sse,
    text_chunks,
    tool_call_chunks,
    usage,
)
from tests.support.api_client import HELLO, MODEL, TIMEOUT, bounded, make_client, stream, wait_event


async def test_text_usage_and_finish(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("The capital", " is Paris.", id="gen-abc123")))
    async with make_client(fake_api) as client:
        outcome = await stream(client)

    assert outcome.error is None
    assert outcome.of(TextDelta) == [TextDelta("The capital"), TextDelta(" is Paris.")]
    [update] = outcome.of(UsageUpdate)
    assert outcome.events[-1] == Finished("stop")
    assert outcome.events.index(update) < len(outcome.events) - 1
    result = outcome.result
    assert result is not None
    assert result.text == "The capital is Paris."
    assert (result.id, result.model, result.finish_reason) == ("gen-abc123", MODEL, "stop")
    assert result.usage == update.usage
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (14, 8)
    assert result.usage.total_tokens == 22
    assert result.usage.cost == pytest.approx(0.000066)
    assert result.usage.cached_tokens == 0
    assert result.tool_calls == []


async def test_usage_on_a_separate_chunk_without_choices(fake_api: FakeClineAPI) -> None:
    fake_api.script(
        sse(text_chunks("Hi", usage=usage(25, 42, 0.000315, cached_tokens=7), usage_separate=True))
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.text == "Hi"
    assert outcome.result.usage is not None
    assert outcome.result.usage.prompt_tokens == 25
    assert outcome.result.usage.completion_tokens == 42
    assert outcome.result.usage.cost == pytest.approx(0.000315)
    assert outcome.result.usage.cached_tokens == 7
    assert outcome.events[-1] == Finished("stop")


async def test_a_stream_without_usage(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("Hi", usage=None)))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.result is not None
    assert outcome.result.usage is None
    assert outcome.of(UsageUpdate) == []


@pytest.mark.parametrize("key", ["reasoning", "reasoning_content"])
async def test_reasoning_under_either_key(fake_api: FakeClineAPI, key: str) -> None:
    fake_api.script(
        sse(
            [
                role_chunk(),
                reasoning_chunk("Think", key=key),
                reasoning_chunk("ing.", key=key),
                content_chunk("Answer."),
                finish_chunk(usage=usage()),
            ]
        )
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.of(ReasoningDelta) == [ReasoningDelta("Think"), ReasoningDelta("ing.")]
    assert outcome.result is not None
    assert outcome.result.reasoning == "Thinking."
    assert outcome.result.text == "Answer."
    first_text = outcome.events.index(TextDelta("Answer."))
    assert outcome.events.index(ReasoningDelta("ing.")) < first_text


async def test_two_interleaved_tool_calls_are_merged_by_index(fake_api: FakeClineAPI) -> None:
    calls = (
        FakeToolCall("call_1", "get_weather", '{"city":"Paris","unit":"C"}'),
        FakeToolCall("call_2", "get_time", '{"tz":"Europe/Paris"}'),
    )
    fake_api.script(sse(tool_call_chunks(*calls, interleave=True, piece_size=3)))
    async with make_client(fake_api) as client:
        outcome = await stream(client)

    assert outcome.error is None
    deltas = outcome.of(ToolCallDelta)
    assert {d.index for d in deltas} == {0, 1}
    # The pieces really did alternate on the wire.
    assert [d.index for d in deltas[2:6]] == [0, 1, 0, 1]
    for index, call in enumerate(calls):
        mine = [d for d in deltas if d.index == index]
        assert (mine[0].id, mine[0].name) == (call.id, call.name)
        assert "".join(d.arguments for d in mine) == call.arguments
    [done] = outcome.of(ToolCallsDone)
    expected = [(c.id, c.name, c.arguments) for c in calls]
    assert [(c.id, c.name, c.arguments) for c in done.tool_calls] == expected
    assert outcome.result is not None
    assert outcome.result.tool_calls == done.tool_calls
    assert [c.parsed_arguments for c in outcome.result.tool_calls] == [
        {"city": "Paris", "unit": "C"},
        {"tz": "Europe/Paris"},
    ]
    assert outcome.result.finish_reason == "tool_calls"
    assert outcome.events[-1] == Finished("tool_calls")
    assert outcome.events.index(done) < len(outcome.events) - 1


async def test_text_before_a_tool_call(fake_api: FakeClineAPI) -> None:
    call = FakeToolCall("call_9", "read_file", '{"path":"a.py"}')
    fake_api.script(sse(tool_call_chunks(call, text_before="Let me look.", usage_separate=True)))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.result is not None
    assert outcome.result.text == "Let me look."
    assert [c.arguments for c in outcome.result.tool_calls] == ['{"path":"a.py"}']
    assert outcome.result.usage is not None


FRAMINGS: dict[str, dict[str, Any]] = {
    "text/plain": {"content_type": "text/plain"},
    "no content type params": {"content_type": "text/event-stream; charset=utf-8"},
    "crlf": {"crlf": True},
    "comments": {"comments": True},
    "one byte at a time": {"split": 1},
    "crlf split in two": {"crlf": True, "split": 2},
    "everything": {"content_type": "text/plain", "crlf": True, "comments": True, "split": 3},
}


@pytest.mark.parametrize("framing", FRAMINGS.values(), ids=FRAMINGS.keys())
async def test_framings_give_the_same_answer(
    fake_api: FakeClineAPI, framing: dict[str, Any]
) -> None:
    calls = (
        FakeToolCall("call_1", "a", '{"x":"é ü 😀"}'),
        FakeToolCall("call_2", "b", "{}"),
    )
    chunks = [
        *text_chunks("Grüße, ", "世界 😀")[:-1],
        *tool_call_chunks(*calls, interleave=True)[1:],
    ]
    fake_api.script(sse(chunks, **framing))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.text == "Grüße, 世界 😀"
    assert [(c.id, c.arguments) for c in outcome.result.tool_calls] == [
        ("call_1", '{"x":"é ü 😀"}'),
        ("call_2", "{}"),
    ]
    assert outcome.result.usage is not None


async def test_multi_line_data_and_other_fields(fake_api: FakeClineAPI) -> None:
    pretty = json.dumps(content_chunk("split over lines"), indent=1)
    multi_line = "\n".join("data: " + line for line in pretty.splitlines())
    fake_api.script(
        sse(
            [
                role_chunk(),
                "event: message\nid: 7\nretry: 1000\n" + multi_line,
                ": a comment on its own",
                "data:" + json.dumps(content_chunk("!")),  # no space after the colon
                finish_chunk(usage=usage()),
            ]
        )
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.text == "split over lines!"


async def test_unknown_fields_and_empty_deltas_are_ignored(fake_api: FakeClineAPI) -> None:
    odd = content_chunk("b")
    odd["provider"] = "Anthropic"
    odd["choices"][0]["delta"]["reasoning_details"] = [{"type": "reasoning.encrypted"}]
    odd["choices"][0]["logprobs"] = None
    fake_api.script(
        sse(
            [
                role_chunk(),
                content_chunk("a"),
                chunk({"content": ""}),
                chunk({"content": None}),
                odd,
                finish_chunk(usage=usage()),
            ]
        )
    )
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.of(TextDelta) == [TextDelta("a"), TextDelta("b")]


async def test_nothing_after_done_is_read(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse([*text_chunks("a"), "data: [DONE]", "data: not json at all"], done=False))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.text == "a"


async def test_a_finish_reason_without_done_is_complete(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("a"), done=False))
    async with make_client(fake_api) as client:
        outcome = await stream(client)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.finish_reason == "stop"


async def test_events_arrive_while_the_stream_is_still_open(fake_api: FakeClineAPI) -> None:
    gate = threading.Event()
    fake_api.script(sse(text_chunks("first", " second"), gate=gate, gate_after=2))
    seen: list[object] = []
    async with make_client(fake_api) as client:
        chat = client.stream_chat(model=MODEL, messages=HELLO)
        async with chat:
            events = aiter(chat)
            # The server holds the stream after "first" until the gate opens: a client that
            # buffered the body would wait here until the timeout.
            first = await bounded(anext(events), timeout=5)
            assert first == TextDelta("first")
            assert not fake_api.requests[0].finished.is_set()
            gate.set()
            seen = [event async for event in events]
    assert TextDelta(" second") in seen
    assert seen[-1] == Finished("stop")


async def test_a_slow_stream_is_delivered_piece_by_piece(fake_api: FakeClineAPI) -> None:
    delay = 0.15
    fake_api.script(sse(text_chunks("a", "b", "c"), delay=delay))
    arrivals: list[float] = []
    async with make_client(fake_api) as client:
        start = time.monotonic()
        async with client.stream_chat(model=MODEL, messages=HELLO) as chat:
            async for event in chat:
                if isinstance(event, TextDelta):
                    arrivals.append(time.monotonic() - start)
        total = time.monotonic() - start
    # Six events with a pause between each: about 0.75 s in all. The first text must come long
    # before the end.
    assert len(arrivals) == 3
    assert total >= 4 * delay
    assert arrivals[0] < total - 2 * delay
    assert arrivals[0] < arrivals[1] < arrivals[2]


async def test_final_reads_the_rest(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("x", "y")))
    async with (
        make_client(fake_api) as client,
        client.stream_chat(model=MODEL, messages=HELLO) as chat,
    ):
        result = await asyncio.wait_for(chat.final(), TIMEOUT)
    assert result.text == "xy"
    assert await wait_event(fake_api.requests[0].finished)
