"""The fake's model-server helpers, checked with plain httpx (no Cline CLI needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.cline_api import (
    DynamicReply,
    FakeClineAPI,
    RecordedRequest,
    Reply,
    add_file_patch,
    text_reply,
    text_turn,
    write_file,
)

TIMEOUT = 10.0


def offering(*names: str) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "user", "content": "go"}],
        "tools": [{"type": "function", "function": {"name": name}} for name in names],
    }


def tool_call_of(body: str) -> tuple[str, dict[str, Any]]:
    """The name and decoded arguments of the one tool call streamed in an SSE ``body``."""
    name, arguments = "", ""
    for line in body.splitlines():
        if not line.startswith("data: {"):
            continue
        choices = json.loads(line[len("data: ") :])["choices"]
        for call in choices[0]["delta"].get("tool_calls", []) if choices else []:
            name = call.get("function", {}).get("name") or name
            arguments += call.get("function", {}).get("arguments", "")
    return name, json.loads(arguments)


async def post(fake: FakeClineAPI, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        return await http.post(fake.url + "/chat/completions", json=body)


async def test_write_file_calls_editor_when_offered(fake_model: FakeClineAPI) -> None:
    fake_model.script(write_file("/w/a.txt", "a\r\nb", call_id="call_7"))
    response = await post(fake_model, offering("read_files", "editor"))
    assert response.status_code == 200
    assert '"id":"call_7"' in response.text
    assert '"finish_reason":"tool_calls"' in response.text
    assert tool_call_of(response.text) == ("editor", {"path": "/w/a.txt", "new_text": "a\r\nb"})


async def test_write_file_calls_apply_patch_otherwise(fake_model: FakeClineAPI) -> None:
    fake_model.script(write_file(Path("/w/a.txt"), "one\ntwo\n"))
    response = await post(fake_model, offering("apply_patch"))
    patch = "*** Begin Patch\n*** Add File: /w/a.txt\n+one\n+two\n+\n*** End Patch"
    assert tool_call_of(response.text) == ("apply_patch", {"input": patch})


def test_add_file_patch_maps_lines_one_to_one() -> None:
    assert add_file_patch("/a", "") == "*** Begin Patch\n*** Add File: /a\n*** End Patch"
    assert add_file_patch("/a", "x") == "*** Begin Patch\n*** Add File: /a\n+x\n*** End Patch"
    assert add_file_patch("/a", "\n") == "*** Begin Patch\n*** Add File: /a\n+\n+\n*** End Patch"


@pytest.mark.parametrize(
    ("tools", "content", "problem"),
    [
        ((), "x", "needs the tool editor or apply_patch; the request offers []"),
        (("apply_patch",), "x\r\n", "cannot create content with \\r"),
    ],
)
async def test_write_file_answers_401_naming_the_problem(
    fake_model: FakeClineAPI, tools: tuple[str, ...], content: str, problem: str
) -> None:
    fake_model.script(write_file("/w/a.txt", content))
    response = await post(fake_model, offering(*tools))
    assert response.status_code == 401
    assert problem in response.text
    [recorded] = fake_model.problems
    assert problem in recorded


def test_write_file_wants_an_absolute_path() -> None:
    with pytest.raises(ValueError, match="absolute"):
        write_file("relative.txt", "x")


async def test_a_dynamic_reply_that_raises_becomes_a_401(fake_model: FakeClineAPI) -> None:
    def broken(request: RecordedRequest) -> Reply:
        raise KeyError("oops")

    fake_model.script(DynamicReply(broken), DynamicReply(lambda r: text_reply(r.user_text, 200)))
    first = await post(fake_model, offering())
    second = await post(fake_model, offering())
    assert (first.status_code, second.status_code, second.text) == (401, 200, "go")
    assert fake_model.problems == ["cannot answer POST /api/v1/chat/completions: 'oops'"]


async def test_unscripted_status_is_configurable() -> None:
    with FakeClineAPI(unscripted_status=401) as fake:
        response = await post(fake, offering())
    assert response.status_code == 401
    assert response.text == "fake Cline API: no reply scripted for POST /api/v1/chat/completions"
    assert fake.problems == ["no reply scripted for POST /api/v1/chat/completions"]


async def test_text_turn_streams_pieces_then_stop(fake_model: FakeClineAPI) -> None:
    fake_model.script(text_turn("a", "b", delay=0.01))
    response = await post(fake_model, offering())
    assert '"content":"a"' in response.text
    assert '"finish_reason":"stop"' in response.text
    assert response.text.endswith("data: [DONE]\n\n")


async def test_readers(fake_model: FakeClineAPI) -> None:
    image = "data:image/png;base64,AAAA"
    body = {
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": None, "tool_calls": []},
            {"role": "tool", "tool_call_id": "c1", "content": '{"success": true}'},
            {"role": "tool", "tool_call_id": "c2", "content": "plain"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": image}},
                    {"type": "text", "text": "here"},
                ],
            },
        ],
        "tools": [{"type": "function", "function": {"name": "editor"}}],
    }
    fake_model.script(text_turn("ok"))
    await post(fake_model, body)
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        await http.get(fake_model.url + "/models")

    [request] = fake_model.chat_requests
    assert [m["role"] for m in request.messages][:2] == ["system", "user"]
    assert request.tool_names == ["editor"]
    assert request.tool_results == [{"success": True}, "plain"]
    assert request.user_text == "look\nhere"
    assert request.user_images == [image]
    assert len(request.user_parts) == 3
    assert len(fake_model.requests) == 2  # the GET is recorded but is no chat request
