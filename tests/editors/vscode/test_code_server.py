"""The packaged bridge in a real VS Code (code-server), driven through its command palette."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.editors.vscode.conftest import Workbench

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TASK = "Refactor utils.py: add type hints (e2e 7f3a)"
NOT_INSTALLED = "Cline (saoudrizwan.claude-dev) is not installed"


def test_start_task_and_approve_reach_cline(workbench: Workbench) -> None:
    workbench.run_command("Cline Bridge: Start New Task…")
    workbench.answer_input_box("Task for Cline", TASK)
    workbench.toast("Cline Bridge: task sent to Cline").wait_for()
    assert workbench.editor.wait_for_calls(1) == [{"method": "startNewTask", "args": [TASK, None]}]

    workbench.run_command("Cline Bridge: Approve")
    workbench.toast("Cline Bridge: approved").wait_for()
    calls = workbench.editor.wait_for_calls(2)
    assert calls[1:] == [{"method": "pressPrimaryButton", "args": []}]


def test_missing_cline_is_a_clear_error_and_the_sidecar_keeps_serving(
    workbench_without_cline: Workbench,
) -> None:
    workbench, editor = workbench_without_cline, workbench_without_cline.editor
    sidecars = editor.sidecar_pids()
    assert len(sidecars) == 1, f"expected one sidecar process, found {sidecars}"

    workbench.run_command("Cline Bridge: Start New Task…")
    workbench.answer_input_box("Task for Cline", TASK)
    workbench.toast(NOT_INSTALLED).wait_for()
    assert editor.sidecar_pids() == sidecars
    assert workbench.status("running").is_visible()

    workbench.run_command("Notifications: Clear All Notifications")
    workbench.toast(NOT_INSTALLED).wait_for(state="detached")
    workbench.run_command("Cline Bridge: Approve")
    workbench.toast(NOT_INSTALLED).wait_for()
    assert editor.sidecar_pids() == sidecars
    assert workbench.status("running").is_visible()
    assert not editor.calls_file.exists()
