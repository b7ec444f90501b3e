"""The blocking connection behind the one-liners and the one-shot CLI commands: the same wire,
answers and errors as ``Bridge``, with a deadline on every wait."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from cline_bridge import client
from cline_bridge.client import (
    BridgeConnection,
    BridgeConnectionError,
    BridgeError,
    BridgeTimeoutError,
    ClineUnavailableError,
    InternalError,
    NotAuthorisedError,
)
from cline_bridge.wire.discovery import write_discovery
from tests.support.discovery_fixtures import make_record
from tests.support.fake_endpoint import DISPATCHED, STATUS, FakeEndpoint, Reply


def test_open_presents_the_token_then_says_initialized(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    with BridgeConnection.open(bridge_file) as bridge:
        assert bridge.server_info == {"name": "cline-bridge", "version": "0.1.0"}
        assert "clineBridge.startNewTask" in bridge.commands
        assert bridge.record.pid == os.getpid()
        assert bridge.execute_command("clineBridge.status") == STATUS

    fake.wait_for(lambda m: m.get("method") == "exit")
    assert fake.methods() == [
        "initialize",
        "initialized",
        "workspace/executeCommand",
        "shutdown",
        "exit",
    ]
    assert fake.received[0]["params"]["initializationOptions"] == {"token": fake.token}


def test_a_wrong_token_is_not_authorised(fake: FakeEndpoint, runtime: Path) -> None:
    path = write_discovery(make_record(os.getpid(), endpoint=fake.address, token="stale"))

    with pytest.raises(NotAuthorisedError, match="not authorised"):
        BridgeConnection.open(path)


def test_an_unreachable_bridge_is_a_connection_error(runtime: Path) -> None:
    path = write_discovery(make_record(os.getpid(), endpoint=f"unix:{runtime}/gone.sock"))

    with pytest.raises(BridgeConnectionError) as raised:
        BridgeConnection.open(path)
    assert raised.value.message.startswith(
        f"cannot reach the cline-bridge at unix:{runtime}/gone.sock (pid {os.getpid()}): "
    )


def test_a_bridge_that_does_not_answer_initialize_times_out(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.answer_initialize = False

    with pytest.raises(BridgeTimeoutError, match=r"did not answer initialize within 0\.2 s"):
        BridgeConnection.open(bridge_file, timeout=0.2)


def test_a_request_without_an_answer_times_out_and_is_cancelled(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.pressPrimaryButton"] = Reply(hang=True)

    with BridgeConnection.open(bridge_file) as bridge:
        with pytest.raises(BridgeTimeoutError, match=r"pressPrimaryButton within 0\.2 s"):
            bridge.execute_command("clineBridge.pressPrimaryButton", timeout=0.2)
        cancel = fake.wait_for(lambda m: m.get("method") == "$/cancelRequest")
        assert bridge.execute_command("clineBridge.status") == STATUS, "still usable"

    request = next(m for m in fake.received if m.get("method") == "workspace/executeCommand")
    assert cancel["params"] == {"id": request["id"]}


@pytest.mark.parametrize(
    ("code", "error_class"),
    [(-32002, ClineUnavailableError), (-32603, InternalError), (-32601, BridgeError)],
)
def test_error_answers_raise_the_class_of_their_code(
    fake: FakeEndpoint, bridge_file: Path, code: int, error_class: type[BridgeError]
) -> None:
    fake.script["clineBridge.startNewTask"] = Reply(
        error={"code": code, "message": "it went wrong", "data": {"d": 1}}
    )

    with pytest.raises(error_class) as raised:
        client.start_new_task("x", bridge=bridge_file)

    assert type(raised.value) is error_class
    assert (raised.value.code, raised.value.message, raised.value.data) == (
        code,
        "it went wrong",
        {"d": 1},
    )


def test_the_bridges_requests_and_notifications_do_not_disturb_a_call(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.pressSecondaryButton"] = Reply(
        result=DISPATCHED, events_before=[{"taskId": "t", "kind": "message"}]
    )
    messages: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "x", "value": {}}},
        {"jsonrpc": "2.0", "id": 99, "result": "an answer to nothing"},
        {"jsonrpc": "2.0", "id": "p1", "method": "window/workDoneProgress/create"},
        {"jsonrpc": "2.0", "id": "q1", "method": "workspace/configuration"},
    ]

    with BridgeConnection.open(bridge_file) as bridge:
        for message in messages:
            fake.send_to_all(message)
        assert bridge.execute_command("clineBridge.pressSecondaryButton") == DISPATCHED
        answer = fake.wait_for(lambda m: m.get("id") == "q1")

    assert fake.wait_for(lambda m: m.get("id") == "p1") == {
        "jsonrpc": "2.0",
        "id": "p1",
        "result": None,
    }
    assert answer["error"]["code"] == -32601


def test_a_connection_closed_mid_request_is_a_connection_error(
    fake: FakeEndpoint, bridge_file: Path
) -> None:
    fake.script["clineBridge.startNewTask"] = Reply(close=True)

    with BridgeConnection.open(bridge_file) as bridge:
        with pytest.raises(BridgeConnectionError, match="closed the connection"):
            bridge.execute_command("clineBridge.startNewTask", {"task": "x"})
        with pytest.raises(BridgeConnectionError):
            bridge.execute_command("clineBridge.status")


def test_a_peer_that_breaks_the_framing_is_a_connection_error(
    runtime: Path, tmp_path: Path
) -> None:
    # A server that answers initialize with a frame that is not one.
    path = runtime / "liar.sock"
    runtime.mkdir(mode=0o700)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    try:
        record = write_discovery(make_record(os.getpid(), endpoint=f"unix:{path}"))
        server.settimeout(10)

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"Content-Length: 2\r\nX-Odd: 1\r\n\r\n{}")
                connection.recv(65536)  # until the client hangs up

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with pytest.raises(BridgeConnectionError, match="broke the protocol: unknown header"):
            BridgeConnection.open(record, timeout=5)
        thread.join(10)
    finally:
        server.close()


def test_close_is_safe_twice(fake: FakeEndpoint, bridge_file: Path) -> None:
    bridge = BridgeConnection.open(bridge_file)
    bridge.close()
    bridge.close()

    fake.wait_for(lambda m: m.get("method") == "exit")
    assert fake.methods().count("shutdown") == 1
    with pytest.raises(BridgeConnectionError):
        bridge.execute_command("clineBridge.status")
