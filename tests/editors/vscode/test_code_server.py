"""The packaged bridge in a real VS Code (code-server), driven through its command palette."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.editors.vscode.workbench import wait_until
from tests.fakes.cline_api import sse, text_chunks
from tests.support.processes import exe
from tests.support.pyenv import PythonMissing, pyenv_python

if TYPE_CHECKING:
    from tests.editors.vscode.workbench import StartWorkbench, Workbench
    from tests.fakes.cline_api import FakeClineAPI

pytestmark = [pytest.mark.e2e, pytest.mark.alone, pytest.mark.timeout(180)]

TASK = "Refactor utils.py: add type hints (e2e 7f3a)"
NOT_INSTALLED = "Cline (saoudrizwan.claude-dev) is not installed"
API_KEY = "sk-cline-e2e-4d61c0a9f2"  # made up; the test looks for it in every log afterwards
QUESTION = "What is the capital of France? (e2e 2b8c)"
ANSWER = "Paris is the capital."
TERMINAL_TASK = "Run the tests (from a terminal)"
NON_BUILD_PYTHON = "3.12"
"""An interpreter other than the one `make vsix` ran on (the repository's venv)."""
TOO_OLD_PYTHON = "3.9"


def test_start_task_and_approve_reach_cline(workbench: Workbench) -> None:
    workbench.run_command("Cline Bridge: Start New Task…")
    workbench.answer_input_box("Task for Cline", TASK)
    workbench.toast("Cline Bridge: task sent to Cline").wait_for()
    assert workbench.editor.wait_for_calls(1) == [{"method": "startNewTask", "args": [TASK, None]}]

    # The double plays a Cline 3, whose records the bridge cannot read: the button is pressed.
    workbench.run_command("Cline Bridge: Approve")
    workbench.toast("Cline Bridge: pressed Cline's primary button").wait_for()
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


def test_ask_streams_the_answer_from_the_rest_api(
    fake_api: FakeClineAPI, start_workbench: StartWorkbench
) -> None:
    fake_api.script(sse(text_chunks("Paris ", "is ", "the ", "capital."), delay=0.1))
    workbench = start_workbench(
        cline="none",
        env={"CLINE_API_KEY": API_KEY},
        settings={"clineBridge.api.baseUrl": fake_api.url},
    )
    editor = workbench.editor

    workbench.run_command("Cline Bridge: Ask…")
    workbench.answer_input_box("Ask Cline (REST API)", QUESTION)
    lines = workbench.wait_for_output("Cline Bridge: Answers", ANSWER)
    assert lines == [f"## {QUESTION}", "", ANSWER]

    # Its last line about the chat is in the log file: the logs are complete enough to search.
    editor.wait_for_log("Cline Bridge", "Cline chat answered")
    assert [(request.method, request.path) for request in fake_api.requests] == [
        ("POST", "/api/v1/chat/completions")
    ]
    request = fake_api.requests[0]
    assert request.headers.get("authorization") == f"Bearer {API_KEY}"
    assert request.json["stream"] is True
    assert request.json["messages"][-1] == {"role": "user", "content": QUESTION}

    leaks = [
        str(log.relative_to(editor.root))
        for log in editor.log_files()
        if API_KEY in log.read_text(errors="replace")
    ]
    assert not leaks, f"the API key is written in {leaks}"


def test_a_script_in_the_integrated_terminal_reaches_this_windows_cline(
    workbench: Workbench, tmp_path: Path
) -> None:
    editor = workbench.editor
    sidecars = editor.sidecar_pids()
    assert len(sidecars) == 1, f"expected one sidecar process, found {sidecars}"
    # A terminal gets the variable only if it opens after the extension set it.
    editor.wait_for_log("Cline Bridge", "Terminals get CLINE_BRIDGE=")

    discovery = workbench.cline_bridge_from_terminal(tmp_path / "bridge.txt")
    assert discovery.parent.resolve() == (editor.root / "run" / "cline-bridge").resolve()
    assert json.loads(discovery.read_text())["pid"] == sidecars[0]

    # What `cline-bridge task` typed in that terminal runs.
    done = subprocess.run(
        [sys.executable, "-m", "cline_bridge", "task", TERMINAL_TASK],
        env={**os.environ, "CLINE_BRIDGE": str(discovery)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, f"cline-bridge task exited {done.returncode}: {done.stderr}"
    assert editor.wait_for_calls(1) == [{"method": "startNewTask", "args": [TERMINAL_TASK, None]}]

    # A restarted sidecar has a new pid and a new discovery file; new terminals get that one.
    workbench.run_command("Cline Bridge: Restart Sidecar")
    # While an interpreter shim (pyenv) starts it, the new sidecar may show as several processes.
    restarted = wait_until(
        lambda: len(pids := editor.sidecar_pids()) == 1 and pids != sidecars and pids,
        30.0,
        "one new sidecar",
    )
    editor.wait_for_log(
        "Cline Bridge", f"Terminals get CLINE_BRIDGE={discovery.parent}/{restarted[0]}.json"
    )
    rediscovery = workbench.cline_bridge_from_terminal(tmp_path / "bridge-after-restart.txt")
    assert rediscovery != discovery
    assert json.loads(rediscovery.read_text())["pid"] == restarted[0]


def test_a_non_build_interpreter_runs_the_sidecar_and_a_too_old_one_is_refused_clearly(
    start_workbench: StartWorkbench,
) -> None:
    try:
        python, old_python = pyenv_python(NON_BUILD_PYTHON), pyenv_python(TOO_OLD_PYTHON)
    except PythonMissing as error:
        pytest.fail(str(error), pytrace=False)
    workbench = start_workbench(cline="double", settings={"clineBridge.interpreter": [str(python)]})
    editor = workbench.editor

    sidecars = editor.sidecar_pids()
    assert len(sidecars) == 1, f"expected one sidecar process, found {sidecars}"
    assert exe(sidecars[0]) == str(python.resolve())
    editor.wait_for_log("Cline Bridge", "Bundled libraries: cp312 for ")
    workbench.run_command("Cline Bridge: Start New Task…")
    workbench.answer_input_box("Task for Cline", TASK)
    workbench.toast("Cline Bridge: task sent to Cline").wait_for()
    assert editor.wait_for_calls(1) == [{"method": "startNewTask", "args": [TASK, None]}]

    # The same editor, the folder's settings naming a Python older than any the VSIX carries: the
    # extension says so, in words and with the fix, instead of starting a sidecar that fails at
    # its first import. (code-server does not notice a user settings file changed behind its back;
    # the folder's settings file is watched as a user's edit of it would be.)
    folder_settings = editor.workspace / ".vscode" / "settings.json"
    folder_settings.parent.mkdir()
    folder_settings.write_text(json.dumps({"clineBridge.interpreter": [str(old_python)]}))
    editor.wait_for_log("Cline Bridge", "changed: restarting", 30.0)
    refusal = workbench.toast("which is too old: this VSIX carries its libraries for CPython 3.10")
    refusal.wait_for()
    assert 'Set "clineBridge.interpreter" to a CPython' in " ".join(refusal.inner_text().split())
    workbench.status("stopped").wait_for()
    wait_until(lambda: not editor.sidecar_pids(), 15.0, "the old sidecar to exit")
