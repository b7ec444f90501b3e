"""Start, serve through bad input, log, and stop cleanly."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from tests.support.editor_double import EditorClient
from tests.support.raw_peer import TIMEOUT, frame, raw_sidecar
from tests.support.sidecar import SERVER_COMMAND, execute

TASK_COMMANDS = [
    "clineBridge.startNewTask",
    "clineBridge.sendMessage",
    "clineBridge.pressPrimaryButton",
    "clineBridge.pressSecondaryButton",
]


async def test_initialize_advertises_every_command() -> None:
    async with raw_sidecar() as sidecar:
        response = await sidecar.initialize({"clineApi": True})

    result = response["result"]
    assert result["serverInfo"]["name"] == "cline-bridge"
    assert set(result["capabilities"]["executeCommandProvider"]["commands"]) == {
        *TASK_COMMANDS,
        "clineBridge.status",
        "clineBridge.chat",
        "clineBridge.listModels",
    }


async def test_status_never_shows_the_api_key() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize({"apiKey": "sk-test-5ecret-k3y", "model": "m/x"})
        status = (await sidecar.execute("clineBridge.status"))["result"]
        await sidecar.request("shutdown")
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
        stderr = await asyncio.wait_for(sidecar.process.stderr.read(), TIMEOUT)  # type: ignore[union-attr]

    assert status["apiKeyConfigured"] is True
    assert status["model"] == "m/x"
    assert "sk-test-5ecret-k3y" not in repr(status)
    assert b"5ecret" not in stderr


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"{not json", id="invalid-json"),
        pytest.param(b'"just a string"', id="json-string"),
        pytest.param(b'{"jsonrpc": "2.0", "id": 99}', id="no-method"),
        pytest.param(b'{"jsonrpc": "1.0", "id": 98, "method": "x"}', id="wrong-version"),
        pytest.param(
            b'{"jsonrpc": "2.0", "id": 97, "method": "workspace/executeCommand", "params": 5}',
            id="params-not-object",
        ),
    ],
)
async def test_malformed_messages_do_not_stop_the_sidecar(garbage: bytes) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize({"clineApi": True})

        await sidecar.send_bytes(garbage)
        status = await sidecar.execute("clineBridge.status")

        assert status["result"]["host"] == "editor"
        assert sidecar.process.returncode is None


async def test_unknown_method_gets_method_not_found() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        response = await sidecar.request("clineBridge/noSuchThing", {})

        assert response["error"]["code"] == -32601


async def test_shutdown_and_exit_end_the_process_with_status_0() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize({"clineApi": True})

        assert (await sidecar.request("shutdown"))["result"] is None
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})

        assert await asyncio.wait_for(sidecar.process.wait(), TIMEOUT) == 0


async def test_closing_stdin_ends_the_process() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()
        assert sidecar.process.stdin is not None

        sidecar.process.stdin.close()

        await asyncio.wait_for(sidecar.process.wait(), TIMEOUT)


async def test_logs_reach_the_client_as_log_messages(editor: EditorClient) -> None:
    await execute(editor, "clineBridge.pressPrimaryButton")

    messages = [message.message for message in editor.log_messages]
    assert any("ready" in message and "host editor" in message for message in messages)
    assert any("clineBridge/pressPrimaryButton dispatched" in message for message in messages)
    assert all(message.type != types.MessageType.Error for message in editor.log_messages)


async def test_a_bad_initialization_option_is_reported_not_fatal() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize({"clineApi": "yes", "apiKey": 12345})
        status = await sidecar.execute("clineBridge.status")

    assert status["result"]["host"] == "none"
    assert status["result"]["apiKeyConfigured"] is False
    logged = [
        n["params"]["message"] for n in sidecar.notifications if n["method"] == "window/logMessage"
    ]
    assert any(
        "initializationOptions.clineApi should be a boolean, not string" in m for m in logged
    )
    assert any("initializationOptions.apiKey should be a string, not number" in m for m in logged)
    assert not any("12345" in m for m in logged)


def test_stdin_that_is_a_file_is_served_too(tmp_path: Path) -> None:
    # Editors give the sidecar a pipe, served by the asyncio reader; anything else (a file here,
    # a terminal) falls back to pygls's own reader. Both must speak the same protocol.
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "workspace/executeCommand",
            "params": {"command": "clineBridge.status", "arguments": []},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    script = tmp_path / "session.lsp"
    script.write_bytes(b"".join(frame(message) for message in messages))

    with script.open("rb") as stdin:
        completed = subprocess.run(
            SERVER_COMMAND, stdin=stdin, capture_output=True, timeout=TIMEOUT
        )

    assert completed.returncode == 0
    assert b'"host": "none"' in completed.stdout
    assert b'"id": 3, "jsonrpc": "2.0", "result": null' in completed.stdout
