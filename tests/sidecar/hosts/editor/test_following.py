"""The editor host follows what Cline 4 records of its tasks: it names the task it started, sends
its events, and presses a button only when something waits for an answer.

Cline is ``RecordingCline`` behind the extension double: it writes its records as the real one
does. tests/editors/vscode runs the same paths with the real Cline in VS Code.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.client import Bridge
from cline_bridge.sidecar.hosts.editor.host import APPROVAL_SETTLE
from tests.fakes.cline_records import FakeSession
from tests.support.control_sidecar import Sidecar, running_sidecar
from tests.support.recording_cline import APPROVED_EDIT, RESUMPTION, RecordingCline
from tests.support.sidecar import execute

START = "clineBridge.startNewTask"
PRIMARY, SECONDARY = "clineBridge.pressPrimaryButton", "clineBridge.pressSecondaryButton"


def sent_to_cline(sidecar: Sidecar) -> list[str]:
    return [method for method, _ in sidecar.editor.cline.calls]


async def records_read(sidecar: Sidecar) -> None:
    """Return once the sidecar has read Cline's records a first time: what Cline records from
    then on is news, not the past. (A button waits for that reading; with no task, it presses
    nothing.)"""
    assert (await execute(sidecar.editor, PRIMARY))["action"] == "none"


async def started_by_hand(following: Sidecar, recording: RecordingCline) -> FakeSession:
    """A task Cline started itself (from its panel), once the sidecar has told of it."""
    await records_read(following)
    session = FakeSession.start(recording.data_dir, "go", pid=recording.window_pid)
    await following.editor.log.wait_for("started", taskId=session.session_id)
    return session


async def test_a_task_is_named_followed_and_its_edit_approved(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    log = following.editor.log

    started = await execute(following.editor, START, "Create hello.txt")

    task_id = recording.session.session_id
    assert started["action"] == "started"
    assert started["taskId"] == task_id
    await log.wait_for("approval", taskId=task_id)
    approved = await execute(following.editor, PRIMARY)
    assert approved == {
        "host": "editor",
        "dispatched": True,
        "action": "approved",
        "taskId": task_id,
        "state": "running",
        "toolCallId": "call_1",
        "title": f"editor: write {workspace / 'hello.txt'}",
        "toolKind": "edit",
        "input": {"path": str(workspace / "hello.txt"), "new_text": "hello\n"},
    }
    await log.wait_for("turnEnd", taskId=task_id)
    assert log.kinds(task_id) == APPROVED_EDIT
    resolved = await log.wait_for("approvalResolved")
    assert (resolved["outcome"], resolved["source"]) == ("allowed", "button")
    assert [e["status"] for e in log.events if e["kind"] == "toolCall"] == [
        "pending",
        "in_progress",
        "completed",
    ]
    assert (workspace / "hello.txt").read_text() == "hello\n"
    assert [e["seq"] for e in log.events] == sorted(e["seq"] for e in log.events)


async def test_a_fresh_approval_is_answered_once_cline_listens(
    following: Sidecar, recording: RecordingCline
) -> None:
    pressed_at: list[float] = []
    original = following.editor.cline.acts

    def acts(method: str, params: Any) -> None:
        if method == "clineBridge/pressPrimaryButton":
            pressed_at.append(time.monotonic())
        assert original is not None
        original(method, params)

    following.editor.cline.acts = acts
    await execute(following.editor, START, "Create hello.txt")
    await following.editor.log.wait_for("approval")
    seen_at = time.monotonic()

    approved, again = await asyncio.gather(
        execute(following.editor, PRIMARY), execute(following.editor, PRIMARY)
    )

    assert (approved["action"], again["action"]) == ("approved", "none")
    assert again["state"] == "running", "answered once: the second press finds nothing waiting"
    # Cline records "pending" before it listens for the answer: a press must not come sooner.
    assert len(pressed_at) == 1
    assert pressed_at[0] - seen_at >= APPROVAL_SETTLE - 0.2


async def test_a_rejected_edit_is_reported_as_denied(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    log = following.editor.log
    await execute(following.editor, START, "Create hello.txt")
    await log.wait_for("approval")

    rejected = await execute(following.editor, SECONDARY)

    assert (rejected["action"], rejected["toolKind"]) == ("rejected", "edit")
    await log.wait_for("turnEnd")
    resolved = await log.wait_for("approvalResolved")
    assert (resolved["outcome"], resolved["source"]) == ("rejected", "button")
    failed = await log.wait_for("toolCall", status="failed")
    assert failed["toolCallId"] == "call_1"
    assert not (workspace / "hello.txt").exists()


async def test_buttons_with_nothing_waiting_press_nothing_unless_forced(
    following: Sidecar, recording: RecordingCline
) -> None:
    log = following.editor.log
    await execute(following.editor, START, "Say hello")
    await log.wait_for("turnEnd")
    task_id = recording.session.session_id

    for button in (PRIMARY, SECONDARY):
        assert await execute(following.editor, button) == {
            "host": "editor",
            "dispatched": False,
            "action": "none",
            "taskId": task_id,
            "state": "idle",
        }
    assert sent_to_cline(following) == ["clineBridge/startNewTask"]

    forced = await execute(following.editor, SECONDARY, {"force": True})

    assert (forced["action"], forced["dispatched"]) == ("resumed", True)
    assert sent_to_cline(following)[-1] == "clineBridge/pressSecondaryButton"
    resumed = await log.wait_for("turnStart", turn=2)
    assert resumed["text"] == RESUMPTION


async def test_the_primary_button_retries_a_failed_task(
    following: Sidecar, recording: RecordingCline
) -> None:
    log = following.editor.log
    await execute(following.editor, START, "Say hello")
    await log.wait_for("turnEnd")
    recording.session.set_status("failed")
    await log.wait_for("error", state="failed")

    rejected = await execute(following.editor, SECONDARY)
    retried = await execute(following.editor, PRIMARY)  # Cline's "Retry"

    assert (rejected["action"], rejected["state"]) == ("none", "failed")
    assert retried["action"] == "resumed"
    assert sent_to_cline(following) == [
        "clineBridge/startNewTask",
        "clineBridge/pressPrimaryButton",
    ]


async def test_without_a_task_a_button_answers_none(following: Sidecar) -> None:
    for arguments in ([], [{"force": False}]):
        assert await execute(following.editor, PRIMARY, *arguments) == {
            "host": "editor",
            "dispatched": False,
            "action": "none",
            "taskId": None,
            "state": "none",
        }
    assert following.editor.cline.calls == []


async def test_a_message_is_queued_while_a_turn_waits_and_sent_after(
    following: Sidecar, recording: RecordingCline
) -> None:
    log = following.editor.log
    await execute(following.editor, START, "Create hello.txt")
    await log.wait_for("approval")

    queued = await execute(following.editor, "clineBridge.sendMessage", "and add a test")
    assert queued["action"] == "queued"

    await log.wait_for("turnEnd")
    sent = await execute(following.editor, "clineBridge.sendMessage", "thanks")
    assert (sent["action"], sent["state"]) == ("sent", "idle")


async def test_status_says_what_the_host_follows(
    following: Sidecar, recording: RecordingCline
) -> None:
    await execute(following.editor, START, "Create hello.txt")
    await following.editor.log.wait_for("approval")

    status = await execute(following.editor, "clineBridge.status")

    assert status["host"] == "editor"
    assert status["editor"] == {
        "events": True,
        "reason": None,
        "dataDir": str(recording.data_dir),
        "taskId": recording.session.session_id,
        "state": "awaitingApproval",
    }


async def test_an_approval_open_before_the_sidecar_started_can_be_answered(
    runtime_dir: Path, workspace: Path, recording: RecordingCline
) -> None:
    waiting = FakeSession.start(recording.data_dir, "Create hello.txt", pid=recording.window_pid)
    waiting.user("Create hello.txt")
    waiting.tool_use("call_1", "editor", {"path": str(workspace / "hello.txt"), "new_text": "hi"})
    waiting.set_status("pending")

    async with running_sidecar(runtime_dir, workspace, options=recording.options) as sidecar:
        approved = await execute(sidecar.editor, PRIMARY)

        assert (approved["action"], approved["taskId"]) == ("approved", waiting.session_id)
        assert sent_to_cline(sidecar) == ["clineBridge/pressPrimaryButton"]
        assert sidecar.editor.log.events == [], "what was there before tells nothing"


async def test_another_window_s_task_is_not_followed(
    following: Sidecar, recording: RecordingCline
) -> None:
    theirs = FakeSession.start(recording.data_dir, "Create x.txt", pid=os.getpid() + 1)
    theirs.user("Create x.txt")
    theirs.tool_use("call_1", "editor", {"path": "/elsewhere/x.txt", "new_text": "x"})
    theirs.set_status("pending")
    await execute(following.editor, START, "Say hello")
    await following.editor.log.wait_for("turnEnd")

    assert {e["taskId"] for e in following.editor.log.events} == {recording.session.session_id}
    assert (await execute(following.editor, PRIMARY))["action"] == "none"


async def test_half_written_records_are_read_once_whole(
    following: Sidecar, recording: RecordingCline
) -> None:
    log = following.editor.log
    session = await started_by_hand(following, recording)

    session.messages_file.write_text('{"version": 1, "messages": [{"role": "us')
    session.manifest_file.write_text("{")
    session.user("go")
    session.say("Hello.")
    session.set_status("idle")

    await log.wait_for("turnEnd", taskId=session.session_id)
    assert log.kinds(session.session_id) == ["started", "turnStart", "message", "turnEnd"]
    assert (await execute(following.editor, "clineBridge.status"))["editor"]["events"] is True


async def test_records_of_an_unknown_version_turn_events_off_and_buttons_unguarded(
    following: Sidecar, recording: RecordingCline
) -> None:
    log = following.editor.log
    session = await started_by_hand(following, recording)

    session.messages_version = 2
    session.user("go")

    reason = "Cline's task records cannot be read: a messages file of version 2"
    lost = await log.wait_for("error", taskId=session.session_id, final=True)
    assert lost["message"] == f"{reason}; the bridge sends no more events"
    status = await execute(following.editor, "clineBridge.status")
    assert (status["editor"]["events"], status["editor"]["reason"]) == (False, reason)
    pressed = await execute(following.editor, SECONDARY)
    assert pressed == {"host": "editor", "dispatched": True, "action": "pressed"}
    assert sent_to_cline(following) == ["clineBridge/pressSecondaryButton"]


@pytest.mark.parametrize(
    ("cline", "reason"),
    [
        pytest.param(
            {"version": "3.38.1"}, "Cline 3.38.1 keeps its tasks where the bridge", id="Cline 3"
        ),
        pytest.param(
            {"installed": False, "extensionHostPid": 7},
            "Cline is not installed in this editor",
            id="no Cline",
        ),
    ],
)
async def test_without_readable_records_no_events_and_the_status_says_why(
    runtime_dir: Path, workspace: Path, cline: dict[str, Any], reason: str
) -> None:
    options = {"clineApi": True, "cline": cline}
    async with running_sidecar(runtime_dir, workspace, options=options) as sidecar:
        status = await execute(sidecar.editor, "clineBridge.status")
        pressed = await execute(sidecar.editor, SECONDARY)

    assert status["editor"]["events"] is False
    assert status["editor"]["reason"].startswith(reason)
    # Pressed in the editor: a missing Cline is then reported by the extension, in its words.
    assert pressed == {"host": "editor", "dispatched": True, "action": "pressed"}


async def test_a_subscribed_script_gets_the_same_events_as_the_editor(
    following: Sidecar, recording: RecordingCline
) -> None:
    async with Bridge.connect(str(following.discovery_file), subscribe_events=True) as script:
        started = await script.start_new_task("Create hello.txt")
        received: list[dict[str, Any]] = []
        async for event in script.events():
            received.append(event)
            if event["kind"] == "approval":
                approved = await script.press_primary_button()
            if event["kind"] == "turnEnd":
                break

    assert started["taskId"] == recording.session.session_id
    assert approved["action"] == "approved"
    assert [event["kind"] for event in received] == APPROVED_EDIT
    assert received == following.editor.log.events
