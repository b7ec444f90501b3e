"""The ACP host end to end: pytest-lsp → the sidecar → the real Cline CLI → the fake model.

Every test runs a real ``cline --acp`` (about 1 s to start, 300 MB) in an isolated home, offline,
against the fake model server, and leaves no Cline process behind (tests/acp/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from tests.fakes.cline_api import (
    DynamicReply,
    FakeClineAPI,
    FakeToolCall,
    RecordedRequest,
    Reply,
    sse,
    text_turn,
    tool_call_chunks,
    usage,
    write_file,
)
from tests.support.acp_editor import AcpEditor
from tests.support.cline_env import ClineHome
from tests.support.images import PNG_BYTES, data_url
from tests.support.sidecar import SERVER_COMMAND, execute, execute_error

START = "clineBridge.startNewTask"
SEND = "clineBridge.sendMessage"
PRIMARY = "clineBridge.pressPrimaryButton"
SECONDARY = "clineBridge.pressSecondaryButton"


def _capabilities(*, dialogs: bool) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(
            work_done_progress=True,
            show_message=types.ShowMessageRequestClientCapabilities() if dialogs else None,
        )
    )


async def _initialize(client: AcpEditor, home: ClineHome, *, dialogs: bool) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=_capabilities(dialogs=dialogs),
            client_info=types.ClientInfo(name="acp-test-editor"),
            root_uri=home.workspace.as_uri(),
            initialization_options={"acp": home.acp_options(), "control": False},
        )
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=AcpEditor)
)
async def editor(lsp_client: AcpEditor, cline_home: ClineHome) -> AsyncIterator[None]:
    """An editor without approval dialogs: approvals are answered by the button commands."""
    await _initialize(lsp_client, cline_home, dialogs=False)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=AcpEditor)
)
async def dialog_editor(lsp_client: AcpEditor, cline_home: ClineHome) -> AsyncIterator[None]:
    """An editor that shows approval dialogs (``window.showMessage``)."""
    await _initialize(lsp_client, cline_home, dialogs=True)
    yield
    await lsp_client.shutdown_session()


async def test_approved_tool_creates_the_file(
    editor: AcpEditor, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "hello.txt"
    fake_model.script(
        write_file(target, "hello from cline\n", text_before="Creating it."),
        text_turn("Created ", "hello.txt."),
    )

    started = await execute(editor, START, "create hello.txt")
    assert started["host"] == "acp"
    assert started["action"] == "started"
    task_id = started["taskId"]
    approval = await editor.wait_for_event("approval", taskId=task_id)
    assert not target.exists()
    assert approval["state"] == "awaitingApproval"
    assert str(target) in str(approval["input"])  # what the tool wants to do
    assert "allow_once" in approval["options"]

    approved = await execute(editor, PRIMARY)

    assert approved == {
        "host": "acp",
        "taskId": task_id,
        "state": "running",
        "action": "approved",
        # what was approved, for the caller to say
        "toolCallId": approval["toolCallId"],
        "title": approval["title"],
        "toolKind": approval["toolKind"],
        "input": approval["input"],
    }
    end = await editor.wait_for_event("turnEnd", taskId=task_id)
    assert end["stopReason"] == "end_turn"
    assert end["state"] == "idle"
    assert target.read_text() == "hello from cline\n"
    resolved = await editor.wait_for_event("approvalResolved", askId=approval["askId"])
    assert (resolved["outcome"], resolved["source"]) == ("allowed", "button")
    tool_events = [e for e in editor.events if e["kind"] == "toolCall"]
    assert {e["toolCallId"] for e in tool_events} == {approval["toolCallId"]}
    # Cline re-announces the call as pending after running it; the status never goes back.
    assert [e["status"] for e in tool_events] == ["pending", "in_progress", "completed"]
    # A title that says what the tool does, not Cline's cut-off JSON; and the tool's name.
    assert approval["title"] in (f"apply_patch: add {target}", f"editor: write {target}")
    assert approval["tool"] == approval["title"].partition(":")[0]
    assert {e["tool"] for e in tool_events} == {approval["tool"]}
    # Cline's totals for the task: two model requests, each with the fake model's usage. It
    # prices a model it does not know at 0 (the usage chunk's own cost is not taken).
    per_request = usage()
    assert end["usage"] == {
        "inputTokens": 2 * per_request["prompt_tokens"],
        "outputTokens": 2 * per_request["completion_tokens"],
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cost": 0.0,
    }
    messages = [e["text"] for e in editor.events if e["kind"] == "message"]
    assert "".join(messages) == "Creating it.Created hello.txt."
    # The model was told the tool ran.
    assert fake_model.chat_requests[1].tool_results[0]["success"] is True
    # Events are numbered in order, and the turn was a progress in the editor.
    seqs = [e["seq"] for e in editor.events]
    assert seqs == sorted(seqs)
    assert editor.kinds(task_id)[:2] == ["started", "turnStart"]
    assert editor.kinds(task_id)[-1] == "turnEnd"
    reports = next(iter(editor.progress_reports.values()))
    await asyncio.wait_for(_until(lambda: reports and reports[-1].kind == "end"), 10)
    assert reports[0].kind == "begin"


async def test_rejected_tool_leaves_no_file_and_the_agent_is_told(
    editor: AcpEditor, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "unwanted.txt"
    fake_model.script(write_file(target, "no\n"), text_turn("Understood, I left it."))

    task_id = (await execute(editor, START, "create unwanted.txt"))["taskId"]
    await editor.wait_for_event("approval", taskId=task_id)
    rejected = await execute(editor, SECONDARY)

    assert rejected["action"] == "rejected"
    end = await editor.wait_for_event("turnEnd", taskId=task_id)
    assert end["stopReason"] == "end_turn"
    assert not target.exists()
    resolved = await editor.wait_for_event("approvalResolved", taskId=task_id)
    assert resolved["outcome"] == "rejected"
    tool_result = fake_model.chat_requests[1].tool_results[0]
    assert "User rejected the tool call" in str(tool_result)
    assert any(e["kind"] == "toolCall" and e["status"] == "failed" for e in editor.events)


async def test_secondary_button_cancels_a_streaming_turn(
    editor: AcpEditor, fake_model: FakeClineAPI
) -> None:
    gate = threading.Event()
    fake_model.script(text_turn("Thinking about it", " for a long time", gate=gate, gate_after=2))
    try:
        task_id = (await execute(editor, START, "think slowly"))["taskId"]
        first = await editor.wait_for_event("message", taskId=task_id)
        assert first["state"] == "running"

        cancelled = await execute(editor, SECONDARY)

        assert cancelled["action"] == "cancelled"
        end = await editor.wait_for_event("turnEnd", taskId=task_id)
        assert end["stopReason"] == "cancelled"
        assert end["state"] == "idle"
        # Idle now: the secondary button has nothing to do, and says so.
        assert (await execute(editor, SECONDARY))["action"] == "none"
    finally:
        gate.set()
    assert "for a long time" not in "".join(
        e["text"] for e in editor.events if e["kind"] == "message"
    )


async def test_buttons_with_nothing_waiting_press_nothing_unless_forced(
    editor: AcpEditor, fake_model: FakeClineAPI
) -> None:
    fake_model.script(text_turn("Done."), text_turn("Going on."))
    task_id = (await execute(editor, START, "say done"))["taskId"]
    first_end = await editor.wait_for_event("turnEnd", taskId=task_id)

    for button in (PRIMARY, SECONDARY):
        result = await execute(editor, button)
        assert (result["action"], result["state"]) == ("none", "idle")
    assert len(fake_model.chat_requests) == 1, "no press reached the model"

    resumed = await execute(editor, PRIMARY, {"force": True})

    assert resumed["action"] == "resumed"
    end = await editor.wait_for_event("turnEnd", taskId=task_id, turn=2)
    assert end["stopReason"] == "end_turn"
    assert len(fake_model.chat_requests) == 2
    assert "[TASK RESUMPTION]" in fake_model.chat_requests[1].user_text
    # Each turn's usage is the task's totals so far, as Cline recorded them.
    per_request = usage()
    assert [(e["usage"]["inputTokens"], e["usage"]["outputTokens"]) for e in (first_end, end)] == [
        (per_request["prompt_tokens"], per_request["completion_tokens"]),
        (2 * per_request["prompt_tokens"], 2 * per_request["completion_tokens"]),
    ]


async def test_message_sent_during_a_turn_follows_it(
    editor: AcpEditor, fake_model: FakeClineAPI
) -> None:
    gate = threading.Event()
    fake_model.script(
        text_turn("First answer", " done.", gate=gate, gate_after=2),
        text_turn("Second answer."),
        text_turn("Third answer."),
    )
    try:
        task_id = (await execute(editor, START, "first question"))["taskId"]
        await editor.wait_for_event("message", taskId=task_id)

        queued = await execute(editor, SEND, "a follow-up while you talk")

        assert (queued["action"], queued["state"]) == ("queued", "running")
        await editor.wait_for_event("queued", taskId=task_id)
    finally:
        gate.set()
    second_end = await editor.wait_for_event("turnEnd", taskId=task_id, turn=2)
    assert second_end["stopReason"] == "end_turn"
    assert fake_model.chat_requests[1].user_text == "a follow-up while you talk"
    # On an idle task a message goes at once.
    sent = await execute(editor, SEND, "one more thing")
    assert sent["action"] == "sent"
    await editor.wait_for_event("turnEnd", taskId=task_id, turn=3)
    assert fake_model.chat_requests[2].user_text == "one more thing"


async def test_image_reaches_the_model_as_an_image_part(
    editor: AcpEditor, fake_model: FakeClineAPI, png_file: Path
) -> None:
    # Cline CLI 3.0.65 drops a prompt's image blocks; the sidecar also saves each image as a
    # file that the prompt names, and the agent's read_files gives it to the model as an image.
    def read_the_attached_image(request: RecordedRequest) -> Reply:
        attached = request.user_text.splitlines()[-1].removeprefix("- ")
        call = FakeToolCall("call_read", "read_files", json.dumps({"files": [{"path": attached}]}))
        return sse(tool_call_chunks(call))

    fake_model.script(DynamicReply(read_the_attached_image), text_turn("A one-pixel image."))

    task_id = (await execute(editor, START, "what is in this image?", [str(png_file)]))["taskId"]
    await editor.wait_for_event("approval", taskId=task_id, toolKind="read")
    await execute(editor, PRIMARY)
    await editor.wait_for_event("turnEnd", taskId=task_id, stopReason="end_turn")

    first, second = fake_model.chat_requests
    assert first.user_text.startswith("what is in this image?\n\nAttached images")
    assert second.user_images == [data_url("image/png", PNG_BYTES)]


async def test_killed_agent_is_reported_and_the_next_task_works(
    editor: AcpEditor, fake_model: FakeClineAPI
) -> None:
    gate = threading.Event()
    fake_model.script(text_turn("Working", " on it", gate=gate, gate_after=2), text_turn("Fine."))
    try:
        task_id = (await execute(editor, START, "a long task"))["taskId"]
        await editor.wait_for_event("message", taskId=task_id)
        pid = (await execute(editor, "clineBridge.status"))["acp"]["agentPid"]
        assert isinstance(pid, int)

        os.kill(pid, signal.SIGKILL)

        error = await editor.wait_for_event("error", taskId=task_id)
    finally:
        gate.set()
    assert error["state"] == "failed"
    assert f"(pid {pid}) was killed by signal 9" in error["message"]
    status = await execute(editor, "clineBridge.status")
    assert status["acp"]["agentPid"] is None
    assert status["acp"]["state"] == "failed"

    restarted = await execute(editor, START, "try again")

    assert restarted["taskId"] != task_id
    await editor.wait_for_event("turnEnd", taskId=restarted["taskId"], stopReason="end_turn")
    new_pid = (await execute(editor, "clineBridge.status"))["acp"]["agentPid"]
    assert new_pid not in (None, pid)


async def test_commands_without_a_task(editor: AcpEditor) -> None:
    error = await execute_error(editor, SEND, "hello?")
    assert error.code == -32002
    assert "start one with clineBridge.startNewTask" in error.message

    for command in (PRIMARY, SECONDARY):
        result = await execute(editor, command)
        assert result == {"host": "acp", "taskId": None, "state": "none", "action": "none"}
    # None of that needed the agent.
    assert (await execute(editor, "clineBridge.status"))["acp"]["agentPid"] is None


async def test_approval_dialog_approves(
    dialog_editor: AcpEditor, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "from-dialog.txt"
    fake_model.script(write_file(target, "approved in a dialog\n"), text_turn("Done."))
    dialog_editor.dialog_answer = lambda params: "Approve"

    task_id = (await execute(dialog_editor, START, "create from-dialog.txt"))["taskId"]

    end = await dialog_editor.wait_for_event("turnEnd", taskId=task_id)
    assert end["stopReason"] == "end_turn"
    assert target.read_text() == "approved in a dialog\n"
    dialog = dialog_editor.dialogs[0]
    assert [action.title for action in dialog.actions or []] == ["Approve", "Reject"]
    assert dialog.message.startswith("Cline wants to use ")
    resolved = await dialog_editor.wait_for_event("approvalResolved", taskId=task_id)
    assert (resolved["outcome"], resolved["source"]) == ("allowed", "dialog")


async def test_button_first_wins_and_the_dialog_is_withdrawn(
    dialog_editor: AcpEditor, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "button-wins.txt"
    fake_model.script(write_file(target, "button\n"), text_turn("Done."))
    never: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    dialog_editor.dialog_answer = lambda params: never  # the user looks away

    task_id = (await execute(dialog_editor, START, "create button-wins.txt"))["taskId"]
    await dialog_editor.wait_for_dialog()
    approved = await execute(dialog_editor, PRIMARY)

    assert approved["action"] == "approved"
    await dialog_editor.wait_for_event("turnEnd", taskId=task_id)
    assert target.read_text() == "button\n"
    resolved = [e for e in dialog_editor.events if e["kind"] == "approvalResolved"]
    assert [(e["outcome"], e["source"]) for e in resolved] == [("allowed", "button")]
    await asyncio.wait_for(_until(lambda: dialog_editor.dialogs_withdrawn == 1), 10)


async def _until(condition: Callable[[], object]) -> None:
    """Poll state that the client's own handlers update (callers bound it with wait_for)."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.02)
