"""The editor host: commands reach the VS Code extension as clineBridge/* requests, exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.editor_double import PRESSED, SENT, STARTED, EditorClient
from tests.support.images import PNG_BYTES, data_url
from tests.support.sidecar import HOST_REQUEST_TIMEOUT, execute, execute_error


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["Add type hints to utils.py"], id="positional"),
        pytest.param([{"task": "Add type hints to utils.py"}], id="object"),
    ],
)
async def test_start_new_task_reaches_cline(editor: EditorClient, arguments: list[object]) -> None:
    result = await execute(editor, "clineBridge.startNewTask", *arguments)

    assert result == STARTED
    assert editor.cline.calls == [
        ("clineBridge/startNewTask", {"task": "Add type hints to utils.py"})
    ]


async def test_start_new_task_with_images_in_both_forms(
    editor: EditorClient, png_file: Path
) -> None:
    url = data_url("image/png", PNG_BYTES)

    await execute(editor, "clineBridge.startNewTask", "Explain this", [url, str(png_file)])
    await execute(editor, "clineBridge.startNewTask", {"images": [png_file.as_uri()]})

    assert editor.cline.calls == [
        ("clineBridge/startNewTask", {"task": "Explain this", "images": [url, url]}),
        ("clineBridge/startNewTask", {"images": [url]}),
    ]


async def test_start_new_task_without_arguments_opens_an_empty_task(editor: EditorClient) -> None:
    await execute(editor, "clineBridge.startNewTask")

    assert editor.cline.calls == [("clineBridge/startNewTask", {})]


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["yes, and add tests"], id="positional"),
        pytest.param([{"message": "yes, and add tests"}], id="object"),
    ],
)
async def test_send_message_reaches_cline(editor: EditorClient, arguments: list[object]) -> None:
    result = await execute(editor, "clineBridge.sendMessage", *arguments)

    assert result == SENT
    assert editor.cline.calls == [("clineBridge/sendMessage", {"message": "yes, and add tests"})]


async def test_buttons_reach_cline(editor: EditorClient) -> None:
    assert await execute(editor, "clineBridge.pressPrimaryButton") == PRESSED
    assert await execute(editor, "clineBridge.pressSecondaryButton", {}) == PRESSED

    assert editor.cline.calls == [
        ("clineBridge/pressPrimaryButton", {}),
        ("clineBridge/pressSecondaryButton", {}),
    ]


async def test_commands_reach_cline_in_the_order_sent(editor: EditorClient, png_file: Path) -> None:
    # The first command reads an image file, the others have nothing to validate: without
    # ordering, "approve" would overtake the task it approves.
    await asyncio.gather(
        execute(editor, "clineBridge.startNewTask", "first", [str(png_file)]),
        execute(editor, "clineBridge.pressPrimaryButton"),
        execute(editor, "clineBridge.sendMessage", "third"),
    )

    assert [method for method, _ in editor.cline.calls] == [
        "clineBridge/startNewTask",
        "clineBridge/pressPrimaryButton",
        "clineBridge/sendMessage",
    ]


async def test_an_error_from_cline_comes_back_as_cline_unavailable(editor: EditorClient) -> None:
    editor.cline.failure = "Cline (saoudrizwan.claude-dev) is not installed."

    error = await execute_error(editor, "clineBridge.startNewTask", "hello")

    assert error.code == -32002
    assert error.message == "Cline (saoudrizwan.claude-dev) is not installed."


async def test_an_editor_that_never_answers_times_out_and_the_sidecar_keeps_serving(
    editor: EditorClient,
) -> None:
    editor.cline.hang = True

    error = await asyncio.wait_for(
        execute_error(editor, "clineBridge.pressPrimaryButton"), HOST_REQUEST_TIMEOUT + 10
    )

    assert error.code == -32002
    assert "did not answer clineBridge/pressPrimaryButton within 2 s" in error.message
    editor.cline.hang = False
    assert await execute(editor, "clineBridge.sendMessage", "still there?") == SENT
    assert editor.cline.calls[-1] == ("clineBridge/sendMessage", {"message": "still there?"})


async def test_status_reports_the_editor_host(editor: EditorClient) -> None:
    status = await execute(editor, "clineBridge.status")

    assert status["host"] == "editor"
    assert status["name"] == "cline-bridge"
