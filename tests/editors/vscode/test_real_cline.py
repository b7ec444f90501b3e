"""The bridge and the real Cline extension (4.x, built from source) in a real VS Code
(code-server), with a fake model on 127.0.0.1 that speaks native tool calls.

From the command palette, from the integrated terminal (``CLINE_BRIDGE``) and from a script outside
VS Code (found by its folder): a task's approval is approved or rejected, a message and an image
reach the model, buttons with nothing waiting cost no model request, and the events of a task of
twenty tool calls match what Cline recorded, in order, none lost or duplicated.

Oracles: the model server (what reached the model), the workspace (what was written) and Cline's
own records (real_cline.ClineRecords), never the bridge's own word.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.editors.vscode.real_cline import ClineRecords, RealCline
from tests.editors.vscode.workbench import Workbench, wait_until
from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support import task_script
from tests.support.environment import without_cline_settings
from tests.support.images import PNG_BYTES

if TYPE_CHECKING:
    from tests.editors.vscode.workbench import StartWorkbench

pytestmark = [pytest.mark.e2e, pytest.mark.alone, pytest.mark.timeout(240)]

API_KEY = "sk-real-cline-e2e-5be1"  # made up; the fake model takes any key
TURN_TIMEOUT = 60.0
"""Seconds for one of Cline's steps: a model round trip and Cline's own work, well under 5 s."""
SCRIPT_TIMEOUT = 180.0
TOOL_CALLS = 20


@pytest.fixture
def fake_model() -> Any:
    # 401 for anything unscripted: Cline then fails the turn at once rather than retrying.
    fake = FakeClineAPI(unscripted_status=401)
    try:
        yield fake
    finally:
        fake.close()


def start_with_real_cline(
    start_workbench: StartWorkbench, fake_model: FakeClineAPI, *, auto_approve_edits: bool = False
) -> Workbench:
    cline = RealCline(fake_model.url, API_KEY, auto_approve_edits=auto_approve_edits)
    return start_workbench(cline=cline)


def cline_bridge(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TURN_TIMEOUT,
    )  # fmt: skip


def newest_task(records: ClineRecords) -> str:
    return wait_until(records.session_ids, TURN_TIMEOUT, "Cline to record a task")[-1]


def wait_for_status(records: ClineRecords, session: str, status: str) -> None:
    wait_until(
        lambda: records.status(session) == status, TURN_TIMEOUT, f"Cline's task to be {status}"
    )


def wait_for_requests(fake_model: FakeClineAPI, count: int) -> None:
    wait_until(
        lambda: len(fake_model.chat_requests) >= count,
        TURN_TIMEOUT,
        f"{count} request(s) to the model",
    )


def test_from_the_palette_an_edit_waits_for_approval_and_approve_writes_it(
    start_workbench: StartWorkbench, fake_model: FakeClineAPI
) -> None:
    workbench = start_with_real_cline(start_workbench, fake_model)
    target = workbench.editor.workspace / "hello.txt"
    fake_model.script(write_file(target, "hello\n"), text_turn("Created hello.txt."))
    records = ClineRecords(workbench.editor.cline_data)

    workbench.run_command("Cline Bridge: Start New Task…")
    workbench.answer_input_box("Task for Cline", "Create hello.txt containing hello")
    workbench.toast("Cline Bridge: task sent to Cline").wait_for()
    session = newest_task(records)
    wait_for_status(records, session, "pending")
    assert not target.exists(), "Cline wrote the file before it was approved"

    workbench.run_command("Cline Bridge: Approve")
    workbench.toast(f"Cline Bridge: approved editor: write {target}").wait_for()
    wait_for_requests(fake_model, 2)
    wait_for_status(records, session, "idle")

    assert target.read_text() == "hello\n"
    tool_result = json.dumps(fake_model.chat_requests[1].tool_results)
    assert str(target) in tool_result
    assert "denied" not in tool_result
    assert fake_model.problems == []


def test_from_the_terminal_a_rejected_edit_is_not_written_and_the_model_is_told(
    start_workbench: StartWorkbench, fake_model: FakeClineAPI, tmp_path: Path
) -> None:
    workbench = start_with_real_cline(start_workbench, fake_model)
    workspace = workbench.editor.workspace
    target = workspace / "hello.txt"
    fake_model.script(write_file(target, "hello\n"), text_turn("OK, I will not create it."))
    records = ClineRecords(workbench.editor.cline_data)
    discovery = workbench.cline_bridge_from_terminal(tmp_path / "bridge.txt")
    terminal = without_cline_settings(CLINE_BRIDGE=str(discovery))

    follow = subprocess.Popen(
        [sys.executable, "-m", "cline_bridge", "task", "Create hello.txt", "--follow"],
        cwd=workspace, env=terminal, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        session = newest_task(records)
        wait_for_status(records, session, "pending")
        rejected = cline_bridge("reject", cwd=workspace, env=terminal)
        stdout, stderr = follow.communicate(timeout=TURN_TIMEOUT)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()

    assert (rejected.returncode, rejected.stdout) == (0, "Rejected the edit of hello.txt.\n")
    assert follow.returncode == 0, stderr
    assert stdout.startswith(f"Task sent to Cline (editor host, task {session}).\n")
    lines = stdout.splitlines()
    asked = lines.index("  ? Cline wants to create hello.txt")  # what was asked is shown
    assert lines[asked + 1 : asked + 5] == [
        "    --- /dev/null",
        "    +++ hello.txt",
        "    @@ -0,0 +1 @@",
        "    +hello",
    ]
    assert lines[-3:-1] == ["  \u2717 create hello.txt (rejected)", "OK, I will not create it."]
    # Cline 4 records the task's usage: the turn's last line says it.
    assert re.fullmatch(
        r"  \u2500\u2500 end_turn \u00b7 \S+ \u00b7 \d+ tokens in, \d+ out", lines[-1]
    )
    assert not target.exists()
    assert "denied" in json.dumps(fake_model.chat_requests[1].tool_results)
    assert fake_model.problems == []


def test_from_a_script_messages_and_images_reach_the_model_and_idle_buttons_cost_nothing(
    start_workbench: StartWorkbench, fake_model: FakeClineAPI, tmp_path: Path
) -> None:
    workbench = start_with_real_cline(start_workbench, fake_model)
    fake_model.script(text_turn("Hi."), text_turn("A tiny image."))
    image = tmp_path / "shot.png"
    image.write_bytes(PNG_BYTES)
    plan = [
        {"task": "Say hi"},
        {"until": "turnEnd"},
        {"approve": {}},
        {"reject": {}},
        {"send": "What is in this image?", "images": [str(image)]},
        {"until": "turnEnd"},
    ]

    played = run_task_script(workbench, plan)

    started, approved, rejected, sent = played["results"]
    task_id = started["taskId"]
    assert task_id == newest_task(ClineRecords(workbench.editor.cline_data))
    for pressed in (approved, rejected):
        assert (pressed["action"], pressed["dispatched"], pressed["state"]) == (
            "none",
            False,
            "idle",
        )
    assert sent["action"] == "sent"
    # A pressed button would have been a "[TASK RESUMPTION]" request between the two turns.
    assert len(fake_model.chat_requests) == 2
    second = fake_model.chat_requests[1]
    assert "What is in this image?" in second.user_text
    assert [url.split(",", 1)[0] for url in second.user_images] == ["data:image/png;base64"]
    kinds = [event["kind"] for event in played["events"] if event["taskId"] == task_id]
    assert kinds == ["started", *["turnStart", "message", "turnEnd"] * 2]
    assert fake_model.problems == []


def test_a_task_of_twenty_tool_calls_is_followed_in_order_without_loss_or_duplicates(
    start_workbench: StartWorkbench, fake_model: FakeClineAPI
) -> None:
    workbench = start_with_real_cline(start_workbench, fake_model, auto_approve_edits=True)
    workspace = workbench.editor.workspace
    calls = [f"call_write_{number:02}" for number in range(TOOL_CALLS)]
    fake_model.script(
        *(
            write_file(workspace / f"file{number:02}.txt", f"{number}\n", call_id=call)
            for number, call in enumerate(calls)
        ),
        text_turn("Wrote twenty files."),
    )

    played = run_task_script(workbench, [{"task": "Write twenty files"}, {"until": "turnEnd"}])

    task_id = played["results"][0]["taskId"]
    events = [event for event in played["events"] if event["taskId"] == task_id]
    records = ClineRecords(workbench.editor.cline_data)
    assert records.tool_use_ids(task_id) == calls, "the fake model's calls, as Cline recorded them"
    tool_events = [(e["toolCallId"], e["status"]) for e in events if e["kind"] == "toolCall"]
    assert _without_auto_approvals(tool_events) == [
        (call, status) for call in calls for status in ("pending", "completed")
    ]
    # Cline 4 may record "pending" for a moment while its auto-approval answers; the bridge then
    # tells it as an approval the panel allowed. Never as one left open or rejected.
    resolved = [e["outcome"] for e in events if e["kind"] == "approvalResolved"]
    assert len(resolved) == sum(e["kind"] == "approval" for e in events)
    assert set(resolved) <= {"allowed"}
    assert [e["kind"] for e in events][:2] == ["started", "turnStart"]
    assert [e["kind"] for e in events][-2:] == ["message", "turnEnd"]
    seqs = [event["seq"] for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "an event was lost or reordered"
    assert not [k for k, n in Counter(json.dumps(e) for e in events).items() if n > 1]
    assert sorted(p.name for p in workspace.glob("file*.txt")) == [
        f"file{number:02}.txt" for number in range(TOOL_CALLS)
    ]
    assert fake_model.problems == []


def run_task_script(workbench: Workbench, plan: list[dict[str, Any]]) -> dict[str, Any]:
    """tests/support/task_script.py, run outside VS Code in its workspace folder: it finds this
    window's bridge by that folder (no CLINE_BRIDGE)."""
    environ = without_cline_settings(XDG_RUNTIME_DIR=str(workbench.editor.root / "run"))
    done = subprocess.run(
        [sys.executable, task_script.__file__, json.dumps(plan)],
        cwd=workbench.editor.workspace, env=environ, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=SCRIPT_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, f"the task script failed:\n{done.stderr}"
    played: dict[str, Any] = json.loads(done.stdout)
    return played


def _without_auto_approvals(tool_events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tool call events with each ``in_progress`` taken out, once it is checked to sit
    between its call's ``pending`` and its result (an auto-approval seen between two readings)."""
    kept: list[tuple[str, str]] = []
    for index, (call, status) in enumerate(tool_events):
        if status != "in_progress":
            kept.append((call, status))
            continue
        assert kept[-1:] == [(call, "pending")], f"{call} in progress before it was pending"
        assert tool_events[index + 1 : index + 2] in (
            [(call, "completed")],
            [(call, "failed")],
        ), f"{call} in progress and then not finished"
    return kept
