"""A command answers the same on the control endpoint as on the editor's LSP connection: both run
it through the sidecar's one command registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException

from tests.support.control_sidecar import Sidecar
from tests.support.images import PNG_BYTES, data_url
from tests.support.raw_control import RawControl
from tests.support.sidecar import execute

PNG_URL = data_url("image/png", PNG_BYTES)

CASES: dict[str, tuple[str, list[Any]]] = {
    "start, positional": ("clineBridge.startNewTask", ["Fix it"]),
    "start, an object with an image": (
        "clineBridge.startNewTask",
        [{"task": "Fix it", "images": [PNG_URL]}],
    ),
    "start, a number": ("clineBridge.startNewTask", [5]),
    "start, an unknown key": ("clineBridge.startNewTask", [{"nope": 1}]),
    "start, three arguments": ("clineBridge.startNewTask", ["a", [], "c"]),
    "start, a relative image path": ("clineBridge.startNewTask", ["x", ["shot.png"]]),
    "start, a data URL that lies": (
        "clineBridge.startNewTask",
        ["x", ["data:image/gif;base64,AA=="]],
    ),
    "send": ("clineBridge.sendMessage", [{"message": "yes"}]),
    "send, images not an array": ("clineBridge.sendMessage", ["yes", "shot.png"]),
    "approve": ("clineBridge.pressPrimaryButton", []),
    "approve, an argument": ("clineBridge.pressPrimaryButton", [1]),
    "reject, an empty object": ("clineBridge.pressSecondaryButton", [{}]),
    "status": ("clineBridge.status", []),
    "chat without a key": ("clineBridge.chat", [{"prompt": "hi"}]),
    "chat, a bad temperature": ("clineBridge.chat", [{"prompt": "hi", "temperature": 9}]),
    "chat, no arguments": ("clineBridge.chat", []),
    "models without a key": ("clineBridge.listModels", []),
    "an unknown command": ("clineBridge.nope", []),
}


@pytest_asyncio.fixture
async def control(sidecar: Sidecar) -> AsyncIterator[RawControl]:
    connection = await RawControl.open(sidecar.record["endpoint"])
    try:
        await connection.initialize(sidecar.record["token"])
        yield connection
    finally:
        await connection.close()


async def over_lsp(sidecar: Sidecar, command: str, arguments: list[Any]) -> tuple[Any, ...]:
    try:
        return ("result", await execute(sidecar.editor, command, *arguments))
    except JsonRpcException as error:
        return ("error", error.code, error.message, error.data)


async def over_control(control: RawControl, command: str, arguments: list[Any]) -> tuple[Any, ...]:
    reply = await control.execute(command, *arguments)
    if "error" in reply:
        error = reply["error"]
        return ("error", error["code"], error["message"], error.get("data"))
    return ("result", reply["result"])


@pytest.mark.parametrize(("command", "arguments"), CASES.values(), ids=CASES.keys())
async def test_a_command_answers_alike_on_both_connections(
    sidecar: Sidecar, control: RawControl, command: str, arguments: list[Any]
) -> None:
    lsp = await over_lsp(sidecar, command, arguments)
    script = await over_control(control, command, arguments)

    assert script == lsp
    if lsp[0] == "error":
        assert lsp[1] != -32603, f"an expected answer, not an internal error: {lsp}"


async def test_a_failing_cline_answers_alike_on_both_connections(
    sidecar: Sidecar, control: RawControl
) -> None:
    sidecar.editor.cline.failure = "Cline (saoudrizwan.claude-dev) is not installed"  # type: ignore[attr-defined]

    lsp = await over_lsp(sidecar, "clineBridge.pressPrimaryButton", [])
    script = await over_control(control, "clineBridge.pressPrimaryButton", [])

    assert script == lsp
    assert lsp[:3] == ("error", -32002, "Cline (saoudrizwan.claude-dev) is not installed")


async def test_both_connections_announce_the_same_commands(sidecar: Sidecar) -> None:
    provider = sidecar.initialized.capabilities.execute_command_provider
    assert provider is not None
    connection = await RawControl.open(sidecar.record["endpoint"])
    try:
        reply = await connection.initialize(sidecar.record["token"])
    finally:
        await connection.close()

    announced = reply["result"]["capabilities"]["executeCommandProvider"]["commands"]
    assert announced == list(provider.commands)
    assert set(announced) == {
        "clineBridge.startNewTask",
        "clineBridge.sendMessage",
        "clineBridge.pressPrimaryButton",
        "clineBridge.pressSecondaryButton",
        "clineBridge.status",
        "clineBridge.chat",
        "clineBridge.listModels",
    }
