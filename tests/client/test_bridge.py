"""The script library against a fake control endpoint: the exact wire, errors, progress, events."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from cline_bridge import __version__, client
from cline_bridge.client import (
    ApiError,
    Bridge,
    BridgeConnectionError,
    BridgeError,
    BridgeNotFoundError,
    BridgeTimeoutError,
    ClineUnavailableError,
    InternalError,
    InvalidArgumentsError,
    NoApiKeyError,
    NoHostError,
    NotAuthorisedError,
    RequestCancelledError,
)
from cline_bridge.wire.discovery import NO_BRIDGE_MESSAGE, write_discovery
from tests.support.discovery_fixtures import make_record
from tests.support.fake_endpoint import DISPATCHED, STATUS, FakeEndpoint, Reply
from tests.support.images import PNG_BYTES, data_url

PNG_URL = data_url("image/png", PNG_BYTES)


async def wait_for(fake: FakeEndpoint, method: str) -> dict[str, Any]:
    return await asyncio.to_thread(fake.wait_for, lambda m: m.get("method") == method)


async def test_connect_presents_the_token_then_says_initialized(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    async with Bridge.connect(bridge_file) as bridge:
        assert bridge.server_info == {"name": "cline-bridge", "version": "0.1.0"}
        assert "clineBridge.startNewTask" in bridge.commands
        assert bridge.discovery_file == bridge_file
        assert bridge.record.pid == os.getpid()

    await wait_for(fake, "exit")
    initialize, initialized, shutdown, exit_ = fake.received
    assert initialize["method"] == "initialize"
    assert initialize["params"]["processId"] == os.getpid()
    assert initialize["params"]["clientInfo"] == {
        "name": "cline-bridge-client",
        "version": __version__,
    }
    assert initialize["params"]["initializationOptions"] == {"token": fake.token}
    assert initialized == {"jsonrpc": "2.0", "method": "initialized", "params": {}}
    assert shutdown["method"] == "shutdown"
    assert "params" not in shutdown
    assert exit_ == {"jsonrpc": "2.0", "method": "exit"}


async def test_connect_can_be_awaited_then_closed(fake: FakeEndpoint, bridge_file: Path) -> None:
    bridge = await Bridge.connect(bridge_file)
    try:
        assert await bridge.status() == STATUS
    finally:
        await bridge.aclose()
        await bridge.aclose()  # twice is harmless
    await wait_for(fake, "exit")
    assert fake.methods()[-2:] == ["shutdown", "exit"]
    with pytest.raises(BridgeConnectionError, match="closed"):
        await bridge.status()


async def test_a_wrong_token_is_not_authorised(fake: FakeEndpoint, runtime: Path) -> None:
    path = write_discovery(make_record(os.getpid(), endpoint=fake.address, token="stale-token"))

    with pytest.raises(NotAuthorisedError) as raised:
        await Bridge.connect(path)
    assert raised.value.code == -32005
    assert "not authorised" in raised.value.message
    assert isinstance(raised.value, BridgeError)


async def test_the_bridge_is_found_by_the_current_directory(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with Bridge.connect() as bridge:
        assert bridge.discovery_file == bridge_file


async def test_the_bridge_is_found_by_cline_bridge(
    fake: FakeEndpoint, bridge_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINE_BRIDGE", str(bridge_file))
    async with Bridge.connect() as bridge:
        assert bridge.discovery_file == bridge_file


async def test_no_bridge_says_how_to_start_one(runtime: Path) -> None:
    with pytest.raises(BridgeNotFoundError, match="No cline-bridge is running"):
        await Bridge.connect()


async def test_an_unreachable_bridge_is_a_connection_error(runtime: Path) -> None:
    path = write_discovery(make_record(os.getpid(), endpoint=f"unix:{runtime}/gone.sock"))

    with pytest.raises(BridgeConnectionError) as raised:
        await Bridge.connect(path)
    assert raised.value.message.startswith(
        f"cannot reach the cline-bridge at unix:{runtime}/gone.sock (pid {os.getpid()}): "
    )


async def test_a_bridge_that_does_not_answer_initialize_times_out(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.answer_initialize = False

    with pytest.raises(BridgeTimeoutError, match=r"did not answer initialize within 0\.2 s"):
        await Bridge.connect(bridge_file, timeout=0.2)


async def test_unexpected_messages_from_the_bridge_are_survived(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    async with Bridge.connect(bridge_file) as bridge:
        messages: list[dict[str, Any]] = [
            {"jsonrpc": "2.0", "method": "$/progress", "params": {"token": [1], "value": {}}},
            {"jsonrpc": "2.0", "method": "$/progress", "params": "nonsense"},
            {"jsonrpc": "2.0", "method": "clineBridge/taskEvent", "params": {"kind": "x"}},
            {"jsonrpc": "2.0", "id": 99, "result": "an answer to nothing"},
            {"jsonrpc": "2.0", "id": "p1", "method": "window/workDoneProgress/create"},
            {"jsonrpc": "2.0", "id": "q1", "method": "workspace/configuration"},
        ]
        for message in messages:
            fake.send_to_all(message)
        answer = await asyncio.to_thread(fake.wait_for, lambda m: m.get("id") == "q1")
        assert await bridge.status() == STATUS

    created = fake.wait_for(lambda m: m.get("id") == "p1")
    assert created == {"jsonrpc": "2.0", "id": "p1", "result": None}
    assert answer["error"]["code"] == -32601


async def test_the_tcp_endpoint(runtime: Path) -> None:
    fake = FakeEndpoint(transport="tcp")
    fake.start(runtime)
    try:
        path = write_discovery(make_record(os.getpid(), endpoint=fake.address))
        assert fake.address.startswith("tcp:127.0.0.1:")
        async with Bridge.connect(path) as bridge:
            assert await bridge.press_primary_button() == DISPATCHED
    finally:
        fake.close()


@pytest.mark.parametrize(
    ("call", "command", "arguments"),
    [
        (lambda b: b.start_new_task("Fix it"), "clineBridge.startNewTask", [{"task": "Fix it"}]),
        (lambda b: b.start_new_task(), "clineBridge.startNewTask", [{}]),
        (
            lambda b: b.start_new_task("See", images=[PNG_URL]),
            "clineBridge.startNewTask",
            [{"task": "See", "images": [PNG_URL]}],
        ),
        (lambda b: b.send_message("Yes"), "clineBridge.sendMessage", [{"message": "Yes"}]),
        (
            lambda b: b.send_message(images=[PNG_URL]),
            "clineBridge.sendMessage",
            [{"images": [PNG_URL]}],
        ),
        (lambda b: b.press_primary_button(), "clineBridge.pressPrimaryButton", []),
        (lambda b: b.press_secondary_button(), "clineBridge.pressSecondaryButton", []),
        (lambda b: b.status(), "clineBridge.status", []),
        (
            lambda b: b.execute_command("clineBridge.listModels"),
            "clineBridge.listModels",
            [],
        ),
    ],
)
async def test_each_method_sends_its_command(
    fake: FakeEndpoint, bridge_file: Path, call: Any, command: str, arguments: list[Any]
) -> None:
    async with Bridge.connect(bridge_file) as bridge:
        result = await call(bridge)

    assert fake.commands() == [{"command": command, "arguments": arguments}]
    assert result == (STATUS if command == "clineBridge.status" else DISPATCHED)


async def test_the_result_comes_back_as_the_bridge_sent_it(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    answer = {"host": "acp", "taskId": "t-1", "state": "running", "extra": [1, {"x": None}]}
    fake.script["clineBridge.startNewTask"] = Reply(result=answer)

    async with Bridge.connect(bridge_file) as bridge:
        assert await bridge.start_new_task("go") == answer


async def test_relative_image_paths_are_made_absolute(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    images: list[str | Path] = [
        "shot.png",
        Path("shots/b.png"),
        "../up.png",
        "~/c.png",
        PNG_URL,
        "file:///x/d.png",
    ]

    async with Bridge.connect(bridge_file) as bridge:
        await bridge.start_new_task("look", images=images)
        await bridge.send_message("and", images=[tmp_path / "e.png"])

    first, second = fake.commands()
    assert first["arguments"][0]["images"] == [
        str(tmp_path / "shot.png"),
        str(tmp_path / "shots" / "b.png"),
        str(tmp_path.parent / "up.png"),
        str(tmp_path / "home" / "c.png"),
        PNG_URL,
        "file:///x/d.png",
    ]
    assert second["arguments"][0]["images"] == [str(tmp_path / "e.png")]


async def test_a_single_image_string_is_refused(fake: FakeEndpoint, bridge_file: Path) -> None:
    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(TypeError, match="list"):
            await bridge.start_new_task("look", images="shot.png")


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (-32602, InvalidArgumentsError),
        (-32001, NoHostError),
        (-32002, ClineUnavailableError),
        (-32003, NoApiKeyError),
        (-32004, ApiError),
        (-32005, NotAuthorisedError),
        (-32800, RequestCancelledError),
        (-32603, InternalError),
        (-32601, BridgeError),
    ],
)
async def test_error_codes_map_to_exceptions(
    fake: FakeEndpoint, bridge_file: Path, code: int, error_class: type[BridgeError]
) -> None:
    data = {"detail": 1}
    fake.script["clineBridge.startNewTask"] = Reply(
        error={"code": code, "message": "it went wrong", "data": data}
    )

    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(error_class) as raised:
            await bridge.start_new_task("x")
        assert await bridge.status() == STATUS, "an error answer leaves the connection usable"

    assert type(raised.value) is error_class
    assert (raised.value.code, raised.value.message, raised.value.data) == (
        code,
        "it went wrong",
        data,
    )
    assert str(raised.value) == "it went wrong"


async def test_api_error_carries_the_rest_details(fake: FakeEndpoint, bridge_file: Path) -> None:
    data = {"status": 402, "code": "insufficient_credits", "requestId": "req_9", "retryable": False}
    fake.script["clineBridge.chat"] = Reply(
        error={"code": -32004, "message": "Insufficient credits", "data": data}
    )

    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(ApiError) as raised:
            await bridge.chat("hi")

    error = raised.value
    assert (error.code, error.status, error.api_code, error.request_id, error.retryable) == (
        -32004,
        402,
        "insufficient_credits",
        "req_9",
        False,
    )
    assert error.data == data


async def test_chat_streams_progress_to_on_text(fake: FakeEndpoint, bridge_file: Path) -> None:
    answer: dict[str, Any] = {
        "id": "gen-1",
        "model": "x/y",
        "text": "Paris is the capital.",
        "toolCalls": [],
        "finishReason": "stop",
        "usage": None,
    }
    fake.script["clineBridge.chat"] = Reply(result=answer, progress=["Paris", " is the capital."])
    pieces: list[str] = []

    async with Bridge.connect(bridge_file) as bridge:
        result = await bridge.chat(
            "Capital of France?", model="x/y", system="Be brief.", on_text=pieces.append
        )

    assert result == answer
    assert pieces == ["Paris", " is the capital."]
    (params,) = fake.commands()
    assert params["command"] == "clineBridge.chat"
    assert params["arguments"] == [
        {"prompt": "Capital of France?", "model": "x/y", "system": "Be brief."}
    ]
    assert isinstance(params["workDoneToken"], str)


async def test_chat_passes_messages_and_options(fake: FakeEndpoint, bridge_file: Path) -> None:
    messages = [{"role": "user", "content": "hi"}]
    async with Bridge.connect(bridge_file) as bridge:
        await bridge.chat(messages=messages, temperature=0.2, maxTokens=5)

    assert fake.commands()[0]["arguments"] == [
        {"messages": messages, "temperature": 0.2, "maxTokens": 5}
    ]


async def test_concurrent_chats_keep_their_progress_apart(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.chat"] = Reply(result={"text": "ab"}, progress=["a", "b"])
    first: list[str] = []
    second: list[str] = []

    async with Bridge.connect(bridge_file) as bridge:
        await asyncio.gather(
            bridge.chat("1", on_text=first.append), bridge.chat("2", on_text=second.append)
        )

    assert first == second == ["a", "b"]
    tokens = {params["workDoneToken"] for params in fake.commands()}
    assert len(tokens) == 2


async def test_an_on_text_that_raises_cancels_the_chat(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.chat"] = Reply(progress=["a", "b"], hang=True)

    def stop(text: str) -> None:
        raise KeyError(text)

    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(KeyError, match="a"):
            await bridge.chat("go", on_text=stop)
        cancel = await wait_for(fake, "$/cancelRequest")
        assert await bridge.status() == STATUS

    chat_request = next(m for m in fake.received if m.get("method") == "workspace/executeCommand")
    assert cancel["params"] == {"id": chat_request["id"]}


async def test_a_request_without_an_answer_times_out_and_is_cancelled(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.pressPrimaryButton"] = Reply(hang=True)

    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(BridgeTimeoutError, match=r"pressPrimaryButton within 0\.2 s"):
            await bridge.press_primary_button(timeout=0.2)
        cancel = await wait_for(fake, "$/cancelRequest")
        assert await bridge.status() == STATUS

    request = next(m for m in fake.received if m.get("method") == "workspace/executeCommand")
    assert cancel["params"] == {"id": request["id"]}


async def test_the_chat_timeout_counts_from_the_last_report(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    # Five reports 0.15 s apart outlast a 0.4 s timeout only if each report restarts the clock.
    fake.script["clineBridge.chat"] = Reply(result={"text": "x"}, progress=["."] * 5, delay=0.15)

    async with Bridge.connect(bridge_file) as bridge:
        assert await bridge.chat("go", timeout=0.4) == {"text": "x"}

        fake.script["clineBridge.chat"] = Reply(progress=["."], hang=True)
        with pytest.raises(BridgeTimeoutError, match=r"clineBridge\.chat within 0\.4 s"):
            await bridge.chat("go", timeout=0.4)


async def test_cancelling_the_caller_cancels_the_request(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.chat"] = Reply(hang=True)

    async with Bridge.connect(bridge_file) as bridge:
        waiting = asyncio.ensure_future(bridge.chat("long"))
        await wait_for(fake, "workspace/executeCommand")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await wait_for(fake, "$/cancelRequest")


async def test_a_connection_closed_mid_request_is_a_connection_error(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.startNewTask"] = Reply(close=True)

    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(BridgeConnectionError, match="closed the connection"):
            await bridge.start_new_task("x")
        with pytest.raises(BridgeConnectionError):
            await bridge.status()


async def test_task_events_reach_a_subscriber(fake: FakeEndpoint, bridge_file: Path) -> None:
    events = [{"taskId": "t1", "kind": "message", "text": "hi"}, {"taskId": "t1", "kind": "end"}]
    received: list[dict[str, Any]] = []

    async with Bridge.connect(bridge_file, subscribe_events=True) as bridge:
        for event in events:
            fake.emit(event)
        async for event in bridge.events():
            received.append(event)
            if event["kind"] == "end":
                break

    assert received == events
    assert fake.received[0]["params"]["initializationOptions"] == {
        "token": fake.token,
        "subscribe": ["taskEvents"],
    }


async def test_events_end_when_the_bridge_is_closed(fake: FakeEndpoint, bridge_file: Path) -> None:
    received: list[dict[str, Any]] = []
    first = asyncio.Event()
    async with Bridge.connect(bridge_file, subscribe_events=True) as bridge:

        async def collect() -> None:
            async for event in bridge.events():
                received.append(event)
                first.set()

        collecting = asyncio.ensure_future(collect())
        fake.emit({"taskId": "t", "kind": "message"})
        await asyncio.wait_for(first.wait(), 5)
        await bridge.aclose()
        await asyncio.wait_for(collecting, 5)  # the iteration ended, without an error
    assert received == [{"taskId": "t", "kind": "message"}]


async def test_events_raise_when_the_connection_is_lost(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.status"] = Reply(close=True)
    async with Bridge.connect(bridge_file, subscribe_events=True) as bridge:
        with pytest.raises(BridgeConnectionError):
            await bridge.status()
        with pytest.raises(BridgeConnectionError, match="closed the connection"):
            async for _ in bridge.events():
                pass


async def test_events_need_a_subscription(fake: FakeEndpoint, bridge_file: Path) -> None:
    fake.emit({"taskId": "t", "kind": "message"})
    async with Bridge.connect(bridge_file) as bridge:
        with pytest.raises(RuntimeError, match="subscribe_events=True"):
            async for _ in bridge.events():
                pass


def test_the_blocking_functions(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert client.start_new_task("one", images=["a.png"]) == DISPATCHED
    assert client.send_message("two", bridge=bridge_file) == DISPATCHED
    assert client.approve() == DISPATCHED
    assert client.reject() == DISPATCHED
    assert client.status() == STATUS

    assert [(p["command"], p["arguments"]) for p in fake.commands()] == [
        ("clineBridge.startNewTask", [{"task": "one", "images": [str(tmp_path / "a.png")]}]),
        ("clineBridge.sendMessage", [{"message": "two"}]),
        ("clineBridge.pressPrimaryButton", []),
        ("clineBridge.pressSecondaryButton", []),
        ("clineBridge.status", []),
    ]
    assert fake.methods().count("initialize") == 5
    fake.wait_for(lambda _: fake.methods().count("exit") == 5)


def test_the_blocking_functions_raise_bridge_errors(runtime: Path) -> None:
    with pytest.raises(BridgeNotFoundError) as raised:
        client.approve()
    assert raised.value.message == NO_BRIDGE_MESSAGE
