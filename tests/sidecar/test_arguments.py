"""Invalid arguments get -32602 with a message naming the argument, and reach nothing."""

from __future__ import annotations

import pytest

from tests.support.editor_double import STARTED, EditorClient
from tests.support.sidecar import execute, execute_error


@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    [
        (
            "clineBridge.startNewTask",
            ["a", [], "c"],
            "clineBridge.startNewTask takes [task?, images?] or [{'task'?, 'images'?}], "
            "got 3 arguments",
        ),
        (
            "clineBridge.startNewTask",
            [42],
            "clineBridge.startNewTask: task must be a string, not number",
        ),
        (
            "clineBridge.startNewTask",
            [{"task": ["a"]}],
            "clineBridge.startNewTask: task must be a string, not array",
        ),
        (
            "clineBridge.startNewTask",
            [{"taks": "typo"}],
            "clineBridge.startNewTask: unknown key 'taks' (expected 'task' and 'images')",
        ),
        (
            "clineBridge.startNewTask",
            ["a", "not-a-list"],
            "clineBridge.startNewTask: images must be an array of strings, not string",
        ),
        (
            "clineBridge.startNewTask",
            ["a", [7]],
            "clineBridge.startNewTask: images[0] must be a string, not number",
        ),
        (
            "clineBridge.sendMessage",
            [{"task": "wrong key"}],
            "clineBridge.sendMessage: unknown key 'task' (expected 'message' and 'images')",
        ),
        (
            "clineBridge.sendMessage",
            [True],
            "clineBridge.sendMessage: message must be a string, not boolean",
        ),
        (
            "clineBridge.pressPrimaryButton",
            ["yes"],
            "clineBridge.pressPrimaryButton takes [] or [{'force'?: boolean}]",
        ),
        (
            "clineBridge.pressPrimaryButton",
            [{}, {}],
            "clineBridge.pressPrimaryButton takes [] or [{'force'?: boolean}]",
        ),
        (
            "clineBridge.pressSecondaryButton",
            [{"reason": "x"}],
            "clineBridge.pressSecondaryButton: unknown key 'reason' (expected 'force')",
        ),
        (
            "clineBridge.pressSecondaryButton",
            [{"force": "yes"}],
            "clineBridge.pressSecondaryButton: force must be a boolean, not string",
        ),
    ],
)
async def test_invalid_arguments(
    editor: EditorClient, command: str, arguments: list[object], message: str
) -> None:
    error = await execute_error(editor, command, *arguments)

    assert error.code == -32602
    assert error.message == message
    assert editor.cline.calls == []


async def test_an_unknown_command_is_invalid_params(editor: EditorClient) -> None:
    error = await execute_error(editor, "cline.startNewTask", "old name")

    assert error.code == -32602
    assert "cline.startNewTask" in error.message


async def test_the_sidecar_keeps_serving_after_invalid_arguments(editor: EditorClient) -> None:
    await execute_error(editor, "clineBridge.startNewTask", 1, 2, 3)

    assert await execute(editor, "clineBridge.startNewTask", "valid") == STARTED
