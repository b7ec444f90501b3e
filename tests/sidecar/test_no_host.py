"""Another editor without a Cline CLI gets -32001 with a message that says what to set up."""

from __future__ import annotations

import pytest
from pytest_lsp import LanguageClient

from tests.support.sidecar import MISSING_CLINE, execute, execute_error

TASK_COMMANDS = [
    ("clineBridge.startNewTask", ["hello"]),
    ("clineBridge.sendMessage", [{"message": "hello"}]),
    ("clineBridge.pressPrimaryButton", []),
    ("clineBridge.pressSecondaryButton", []),
]


@pytest.mark.parametrize(("command", "arguments"), TASK_COMMANDS)
async def test_task_commands_need_a_host(
    other_editor: LanguageClient, command: str, arguments: list[object]
) -> None:
    error = await execute_error(other_editor, command, *arguments)

    assert error.code == -32001
    assert "clineApi" in error.message
    assert f"Cline CLI ({MISSING_CLINE}) was not found" in error.message
    assert "CLINE_BRIDGE_ACP_COMMAND" in error.message


async def test_bad_arguments_are_reported_before_the_missing_host(
    other_editor: LanguageClient,
) -> None:
    error = await execute_error(other_editor, "clineBridge.startNewTask", 42)

    assert error.code == -32602


async def test_status_says_there_is_no_host(other_editor: LanguageClient) -> None:
    status = await execute(other_editor, "clineBridge.status")

    assert status["host"] == "none"
