"""The editor host from a terminal: ``cline-bridge task --follow`` follows a task of the VS Code
window, and ``approve`` / ``reject`` say what they pressed (tests/cli has their wording in full)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.support.cli_process import cline_bridge
from tests.support.control_sidecar import Sidecar
from tests.support.recording_cline import REJECTED_EDIT, RecordingCline
from tests.support.sidecar import execute


async def test_task_follow_yes_approves_the_edit_and_ends_with_the_turn(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    bridge = str(following.discovery_file)

    run = await cline_bridge(
        "task", "Create hello.txt", "--follow", "--yes", "--bridge", bridge, cwd=workspace
    )

    assert run.returncode == 0, run.stderr
    task_id = recording.session.session_id
    assert f"Task sent to Cline (editor host, task {task_id})." in run.stdout
    assert "Approved automatically (--yes)." in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    asked = lines.index("  ? Cline wants to create hello.txt")  # what was approved is shown
    assert lines[asked + 1 : asked + 5] == [
        "    --- /dev/null",
        "    +++ hello.txt",
        "    @@ -0,0 +1 @@",
        "    +hello",
    ]
    assert lines[-2] == "Created hello.txt."
    assert lines[-1].startswith("  \u2500\u2500 end_turn \u00b7 ")
    assert (workspace / "hello.txt").read_text() == "hello\n"


async def test_task_json_prints_the_events_and_leaves_the_answer_to_the_editor(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    bridge = str(following.discovery_file)
    run = asyncio.ensure_future(
        cline_bridge(
            "task", "Create hello.txt", "--follow", "--json", "--bridge", bridge, cwd=workspace
        )
    )
    await following.editor.log.wait_for("approval")
    # Rejected in the editor (the palette's Reject): the command prints that and ends.
    await execute(following.editor, "clineBridge.pressSecondaryButton")
    finished = await run

    assert finished.returncode == 0, finished.stderr
    events = [json.loads(line) for line in finished.stdout.splitlines()]
    assert [event["kind"] for event in events] == REJECTED_EDIT
    assert (events[4]["outcome"], events[4]["source"]) == ("rejected", "button")
    assert events == following.editor.log.events
    assert not (workspace / "hello.txt").exists()


async def test_approve_and_reject_say_what_they_pressed(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    bridge = ("--bridge", str(following.discovery_file))
    await cline_bridge("task", "Create hello.txt", *bridge, cwd=workspace)
    await following.editor.log.wait_for("approval")

    approved = await cline_bridge("approve", *bridge, cwd=workspace)
    await following.editor.log.wait_for("turnEnd")
    again = await cline_bridge("reject", *bridge, cwd=workspace)
    as_json = await cline_bridge("approve", "--json", *bridge, cwd=workspace)
    forced = await cline_bridge("approve", "--force", *bridge, cwd=workspace)

    assert (approved.returncode, approved.stdout) == (0, "Approved the edit of hello.txt.\n")
    assert (again.returncode, again.stdout) == (
        0,
        "Nothing to reject: the task waits for a message.\n",
    )
    assert json.loads(as_json.stdout) == {
        "host": "editor",
        "dispatched": False,
        "action": "none",
        "taskId": recording.session.session_id,
        "state": "idle",
    }
    assert forced.stdout == (
        "Nothing waited for an answer: Cline goes on with the task (a new turn).\n"
    )
    assert [method for method, _ in following.editor.cline.calls] == [
        "clineBridge/startNewTask",
        "clineBridge/pressPrimaryButton",
        "clineBridge/pressPrimaryButton",
    ]


async def test_status_says_the_events_come_from_cline_s_records(
    following: Sidecar, recording: RecordingCline, workspace: Path
) -> None:
    await cline_bridge(
        "task", "Create hello.txt", "--bridge", str(following.discovery_file), cwd=workspace
    )
    await following.editor.log.wait_for("approval")

    run = await cline_bridge("status", "--bridge", str(following.discovery_file), cwd=workspace)

    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(
        f"\n\nTask events: on (from Cline's records in {recording.data_dir}); "
        f"task {recording.session.session_id}: it waits for an approval.\n"
    )
