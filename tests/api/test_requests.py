"""What the client sends, non-streaming answers, model listing and a tool-calling round trip."""

from __future__ import annotations

from typing import Any

import pytest

from cline_bridge.api.errors import ClineAPIError, MissingAPIKeyError
from cline_bridge.api.events import ToolCallsDone
from tests.fakes.cline_api import (
    FakeClineAPI,
    FakeToolCall,
    json_reply,
    sse,
    text_chunks,
    text_reply,
    tool_call_chunks,
    usage,
)
from tests.support.api_client import HELLO, MODEL, bounded, make_client, stream

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def completion(text: str = "The capital of France is Paris.", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "gen-abc123",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(14, 8, 0.000066),
    }
    body.update(extra)
    return body


async def test_a_streamed_request_has_the_documented_shape(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("ok")))
    async with make_client(fake_api) as client:
        await stream(client, temperature=0.2, max_tokens=64)

    [request] = fake_api.requests
    assert (request.method, request.path) == ("POST", "/api/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer k"
    assert request.headers["x-title"] == "cline-bridge"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "model": MODEL,
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.2,
        "max_tokens": 64,
    }


async def test_unset_options_are_not_sent(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("ok")))
    async with make_client(fake_api) as client:
        await stream(client, tools=None, temperature=None, max_tokens=None)
    assert set(fake_api.requests[0].json) == {"model", "messages", "stream", "stream_options"}


async def test_a_plain_request_says_stream_false(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply(completion()))
    async with make_client(fake_api) as client:
        result = await bounded(client.chat(model=MODEL, messages=HELLO))

    [request] = fake_api.requests
    assert request.path == "/api/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k"
    assert request.json["stream"] is False
    assert "stream_options" not in request.json
    assert result.text == "The capital of France is Paris."
    assert result.id == "gen-abc123"
    assert result.model == MODEL
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (14, 8)
    assert result.usage.cost == pytest.approx(0.000066)


async def test_a_plain_answer_in_a_success_data_envelope_is_unwrapped(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(json_reply({"success": True, "data": completion("Wrapped.")}))
    async with make_client(fake_api) as client:
        result = await bounded(client.chat(model=MODEL, messages=HELLO))
    assert result.text == "Wrapped."
    assert result.usage is not None
    assert result.usage.completion_tokens == 8


async def test_a_plain_answer_with_tool_calls(fake_api: FakeClineAPI) -> None:
    body = completion("")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_abc123",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    body["choices"][0]["finish_reason"] = "tool_calls"
    fake_api.script(json_reply(body))
    async with make_client(fake_api) as client:
        result = await bounded(client.chat(model=MODEL, messages=HELLO, tools=[WEATHER_TOOL]))
    assert fake_api.requests[0].json["tools"] == [WEATHER_TOOL]
    assert result.finish_reason == "tool_calls"
    assert result.text == ""
    [call] = result.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "call_abc123",
        "get_weather",
        '{"city":"Paris"}',
    )


async def test_images_pass_through_as_content_parts(fake_api: FakeClineAPI) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe this screenshot."},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ]
    fake_api.script(sse(text_chunks("A cat.")))
    async with make_client(fake_api) as client:
        await stream(client, messages=messages)
    assert fake_api.requests[0].json["messages"] == messages


async def test_a_tool_calling_round_trip(fake_api: FakeClineAPI) -> None:
    call = FakeToolCall("call_1", "get_weather", '{"city":"Paris"}')
    fake_api.script(
        sse(tool_call_chunks(call)),
        sse(text_chunks("It is sunny in Paris.")),
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    async with make_client(fake_api) as client:
        first = await stream(client, messages=messages, tools=[WEATHER_TOOL])
        assert first.error is None
        assert first.result is not None
        assert first.result.finish_reason == "tool_calls"
        [done] = first.of(ToolCallsDone)
        assert done.tool_calls == first.result.tool_calls
        [tool_call] = first.result.tool_calls
        assert tool_call.parsed_arguments == {"city": "Paris"}

        messages += [
            {
                "role": "assistant",
                "content": first.result.text or None,
                "tool_calls": [c.to_wire() for c in first.result.tool_calls],
            },
            {"role": "tool", "tool_call_id": tool_call.id, "content": "sunny, 24 C"},
        ]
        second = await stream(client, messages=messages, tools=[WEATHER_TOOL])

    assert second.result is not None
    assert second.result.text == "It is sunny in Paris."
    assert fake_api.requests[0].json["tools"] == [WEATHER_TOOL]
    assert fake_api.requests[1].json["tools"] == [WEATHER_TOOL]
    assert fake_api.requests[1].json["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 24 C"},
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"object": "list", "data": [{"id": "a/one", "object": "model", "owned_by": "a"}]},
        [{"id": "a/one", "name": "One"}],
    ],
    ids=["openai-list", "bare-array"],
)
async def test_list_models_accepts_both_shapes(fake_api: FakeClineAPI, body: Any) -> None:
    fake_api.script(json_reply(body))
    async with make_client(fake_api) as client:
        models = await bounded(client.list_models())
    assert [model.id for model in models] == ["a/one"]
    [request] = fake_api.requests
    assert (request.method, request.path) == ("GET", "/api/v1/models")
    assert request.headers["authorization"] == "Bearer k"


async def test_list_models_keeps_unknown_fields(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply({"data": [{"id": "a/one", "context_length": 200000}]}))
    async with make_client(fake_api) as client:
        [model] = await bounded(client.list_models())
    assert model.model_dump()["context_length"] == 200000


@pytest.mark.parametrize("key", [None, ""], ids=["none", "empty"])
async def test_no_key_fails_before_sending_anything(
    fake_api: FakeClineAPI, key: str | None
) -> None:
    async with make_client(fake_api, api_key=key) as client:
        with pytest.raises(MissingAPIKeyError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
        outcome = await stream(client)
    assert isinstance(outcome.error, MissingAPIKeyError)
    assert "CLINE_API_KEY" in caught.value.message
    assert fake_api.requests == []


async def test_extra_body_fields_pass_through(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("ok")))
    async with make_client(fake_api) as client:
        await stream(client, reasoning_effort="low")
    assert fake_api.requests[0].json["reasoning_effort"] == "low"


async def test_a_non_json_success_is_an_api_error(fake_api: FakeClineAPI) -> None:
    fake_api.script(text_reply("<html>hi</html>", 200, "text/html"))
    async with make_client(fake_api) as client:
        with pytest.raises(ClineAPIError) as caught:
            await bounded(client.chat(model=MODEL, messages=HELLO))
    assert "not JSON" in caught.value.message
    assert "<html>" not in caught.value.message
