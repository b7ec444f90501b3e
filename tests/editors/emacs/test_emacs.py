"""Emacs 28 + Eglot 1.9 running the documented configuration (docs/editors/cline-bridge.el).

The first test needs no agent: the sidecar's ACP host is selected with a stand-in CLI command,
which only a task command would start. It checks which major modes the documented
`eglot-server-programs` entry takes, attaches a buffer of another mode on request, and opens
Eglot's code action menu. The task test runs the real Cline CLI (in an isolated home, from
tests/support/cline_env.py) against the fake model server and answers the approval from Emacs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.editors.approved_task import check_task_approved_from_the_editor
from tests.editors.emacs.runner import STAND_IN_AGENT, Emacs, EmacsRun
from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.cline_env import ClineHome

pytestmark = pytest.mark.e2e

BODY = "    result = 0\n    for p in prices:\n        result += p\n    return reslt"
SOURCE = f"def total(prices):\n{BODY}\n"
TITLES = ["Cline: explain", "Cline: fix", "Cline: improve"]
DOCUMENTED_MODES = {"markdown-mode", "gfm-mode", "sh-mode"}
"""`cline-bridge-modes` and gfm-mode, a Markdown mode derived from markdown-mode."""
PARENT_MODE_CHILDREN = [
    "org-mode",
    "html-mode",
    "mhtml-mode",
    "latex-mode",
    "rst-mode",
    "nxml-mode",
]


def prompt_of(command: dict[str, Any]) -> str:
    assert command["command"] == "clineBridge.startNewTask"
    [prompt] = command["arguments"]
    assert isinstance(prompt, str)
    return prompt


def no_error(run: EmacsRun) -> None:
    result = run.result
    assert "error" not in result, f"{result['error']}\n{run.logs()}"
    assert "stop_error" not in result, f"{result['stop_error']}\n{run.logs()}"
    # Eglot 1.9 sends `shutdown` and `exit`, then kills the sidecar at once (jsonrpc's
    # `delete-process`): a clean exit and that kill are both what users get.
    [server_exit] = result["server_exits"]
    assert server_exit["status"] in ("exit", "signal"), server_exit


def test_modes_attach_on_request_and_code_actions(emacs: Emacs) -> None:
    shop = emacs.workspace / "shop.py"
    shop.write_text(SOURCE)

    run = emacs.run("smoke", acp=STAND_IN_AGENT)
    result = run.result

    no_error(run)
    # The entry takes its own modes only: none derived from text-mode, and not python-mode.
    taken = set(result["taken_modes"])
    assert "sh-mode" in taken
    assert taken <= DOCUMENTED_MODES, taken
    probed = result["probed"]
    assert not any(probed[mode] for mode in [*PARENT_MODE_CHILDREN, "text-mode", "python-mode"])

    # `M-x cline-bridge-here` attached the Python buffer, with the initializationOptions.
    assert result["major_mode"] == "python-mode"
    assert result["server_name"] == "cline-bridge"
    assert result["language_id"] == "python"
    status = result["status"]
    assert status["host"] == "acp", run.logs()
    assert status["acp"]["command"] == " ".join(STAND_IN_AGENT["command"])
    assert status["workspaceFolders"] == [emacs.workspace.as_uri()]

    # The actions for the whole buffer, as Eglot receives them.
    actions = result["actions"]
    assert [action["title"] for action in actions] == TITLES
    assert [action["kind"] for action in actions] == ["", "quickfix", "refactor.rewrite"]

    # `M-x eglot-code-actions` on lines 2-5: the menu lists the three; "Cline: fix" runs its
    # command, a task about those lines.
    menu = result["code_actions"]
    assert menu["menu"]["titles"] == TITLES
    fix = prompt_of(menu["executed"])
    assert fix.startswith(
        f"Find and fix the bug in the code below, from `{shop}`, lines 2-5 (python)"
    )
    assert f"```python\n{BODY}\n```" in fix

    # `M-x eglot-code-action-quickfix` in Eglot 1.9 asks for the actions and drops them (its
    # interactive flag arrived in 1.15), as docs/editors.md says.
    assert result["quickfix"] == {"menu": None, "executed": None}
    assert any("Server `cline-bridge' now managing" in message for message in result["messages"])


def test_a_task_runs_and_its_approval_is_answered_from_emacs(
    emacs: Emacs, cline_home: ClineHome, fake_model: FakeClineAPI, no_leaked_cline: None
) -> None:
    # The real Cline CLI against the fake model: one tool call to approve, then the answer.
    (emacs.workspace / "build.sh").write_text("#!/bin/sh\necho building\n")
    target = emacs.workspace / "hello.txt"
    fake_model.script(
        write_file(target, "hello from emacs\n", text_before="Creating it."),
        text_turn("Created hello.txt."),
    )

    # acp.env carries the isolated home to the agent: Eglot 1.9 sends :initializationOptions.
    run = emacs.run("task", acp=cline_home.acp_options(), prompt="create hello.txt")
    result = run.result

    no_error(run)
    assert result.get("start_error") is None, f"{result['start_error']}\n{run.logs()}"
    assert result["major_mode"] == "sh-mode"
    check_task_approved_from_the_editor(result, target, "hello from emacs\n")
    # Eglot 1.9 declares no window.showMessage, so no approval dialog was sent.
    assert "window/showMessageRequest" not in result["requests"], result["requests"]
    # What the documented configuration showed the user: the echo area and *cline*.
    shown = result["messages"]
    assert any(message.startswith("Cline wants to ") for message in shown), shown
    assert any(message.startswith("Turn 1 over (end_turn)") for message in shown), shown
    assert "[awaitingApproval] Cline wants to " in result["log"]
    assert "[idle] Turn 1 over (end_turn)" in result["log"]


def test_a_code_action_chosen_in_eglots_menu_starts_a_task(
    emacs: Emacs, cline_home: ClineHome, fake_model: FakeClineAPI, no_leaked_cline: None
) -> None:
    script = emacs.workspace / "build.sh"
    script.write_text("#!/bin/sh\nrm -rf $OUT/\n")
    fake_model.script(text_turn("It deletes $OUT, or / itself when OUT is unset."))

    run = emacs.run(
        "task",
        acp=cline_home.acp_options(),
        env={"CLINE_BRIDGE_TEST_CODE_ACTION": "Cline: explain"},
    )
    result = run.result

    no_error(run)
    assert result.get("start_error") is None, f"{result['start_error']}\n{run.logs()}"
    assert result["menu"] == TITLES
    events = result["events"]
    assert events[0]["kind"] == "started"
    assert (events[-1]["kind"], events[-1]["state"]) == ("turnEnd", "idle"), events[-1]
    # The prompt reached the model: the file, the lines, the language and the code.
    [request] = fake_model.chat_requests
    assert request.user_text.startswith(f"Explain the code below, from `{script}`, lines 1-2 (sh)")
    assert "```sh\n#!/bin/sh\nrm -rf $OUT/\n```" in request.user_text
