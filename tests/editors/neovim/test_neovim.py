"""Neovim 0.7 running the documented configuration (docs/editors/cline-bridge.lua) for real.

The smoke test needs no agent: the sidecar's ACP host is selected with a stand-in CLI command,
which only a task command would start. The task test runs the real Cline CLI (in an isolated home,
from tests/support/cline_env.py) against the fake model server and answers the approval from
Neovim.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.editors.approved_task import check_task_approved_from_the_editor
from tests.editors.neovim.runner import STAND_IN_AGENT, Neovim
from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.cline_env import ClineHome

pytestmark = pytest.mark.e2e

BODY = "    result = 0\n    for p in prices:\n        result += p\n    return reslt"
SOURCE = f"def total(prices):\n{BODY}\n"
TITLES = ["Cline: explain", "Cline: fix", "Cline: improve"]
USER_COMMANDS = ["ClineTask", "ClineSend", "ClineApprove", "ClineReject", "ClineStatus", "ClineLog"]


def prompt_of(action: dict[str, Any]) -> str:
    command = action["command"]
    assert command["command"] == "clineBridge.startNewTask"
    [prompt] = command["arguments"]
    assert isinstance(prompt, str)
    return prompt


def test_setup_status_and_code_actions(neovim: Neovim) -> None:
    shop = neovim.workspace / "shop.py"
    shop.write_text(SOURCE)

    run = neovim.run("smoke", acp=STAND_IN_AGENT)
    result = run.result

    assert "error" not in result, f"{result['error']}\n{run.logs()}"
    assert result["server_name"] == "cline-bridge"
    assert result["attached"] is True
    assert result["status"]["host"] == "acp", run.logs()
    assert result["status"]["workspaceFolders"] == [shop.parent.as_uri()]
    assert "clineBridge.startNewTask" in result["commands"]
    assert set(USER_COMMANDS) <= set(result["user_commands"])

    # vim.lsp.buf.code_action() at line 4: the menu Neovim shows, about that line.
    menu = result["menu"]
    assert [action["title"] for action in menu] == TITLES
    assert [action["kind"] for action in menu] == ["", "quickfix", "refactor.rewrite"]
    for action in menu:
        prompt = prompt_of(action)
        assert f"`{shop}`, line 4 (python)" in prompt
        assert "```python\n        result += p\n```" in prompt

    # vim.lsp.buf.range_code_action() over lines 2-5, with a diagnostic in the context.
    range_menu = result["range_menu"]
    assert [action["title"] for action in range_menu] == TITLES
    fix = prompt_of(range_menu[1])
    assert f"`{shop}`, lines 2-5 (python)" in fix
    assert '- line 5, error, pyright: "reslt" is not defined' in fix
    assert f"```python\n{BODY}\n```" in fix

    assert result["server_exit"] == {"code": 0, "signal": 0}
    assert not result["notifications"], result["notifications"]


def test_a_task_runs_and_its_approval_is_answered_from_neovim(
    neovim: Neovim, cline_home: ClineHome, fake_model: FakeClineAPI, no_leaked_cline: None
) -> None:
    # The real Cline CLI against the fake model: one tool call to approve, then the answer.
    target = neovim.workspace / "hello.txt"
    fake_model.script(
        write_file(target, "hello from neovim\n", text_before="Creating it."),
        text_turn("Created hello.txt."),
    )

    run = neovim.run("task", acp=cline_home.acp_options(), prompt="create hello.txt", timeout=120)
    result = run.result

    assert "error" not in result, f"{result['error']}\n{run.logs()}"
    assert result.get("start_error") is None, result["start_error"]
    check_task_approved_from_the_editor(result, target, "hello from neovim\n")
    # What the documented configuration showed the user.
    shown = [note["message"] for note in result["notifications"]]
    assert any(message.startswith("Cline wants to ") for message in shown), shown
    assert any(message.startswith("Turn 1 over (end_turn)") for message in shown), shown
    assert result["server_exit"] == {"code": 0, "signal": 0}


def test_a_code_action_chosen_in_neovims_menu_starts_a_task(
    neovim: Neovim, cline_home: ClineHome, fake_model: FakeClineAPI, no_leaked_cline: None
) -> None:
    shop = neovim.workspace / "shop.py"
    shop.write_text(SOURCE)
    fake_model.script(text_turn("It adds up the prices, then returns a misspelt name."))

    run = neovim.run(
        "task",
        acp=cline_home.acp_options(),
        env={
            "CLINE_BRIDGE_TEST_FILE": str(shop),
            "CLINE_BRIDGE_TEST_LINE": "5",
            "CLINE_BRIDGE_TEST_CODE_ACTION": "Cline: explain",
        },
        timeout=120,
    )
    result = run.result

    assert "error" not in result, f"{result['error']}\n{run.logs()}"
    assert result["menu"] == TITLES
    events = result["events"]
    assert events[0]["kind"] == "started"
    assert (events[-1]["kind"], events[-1]["state"]) == ("turnEnd", "idle"), events[-1]
    # The prompt reached the model: the file, the line, the language and the code.
    [request] = fake_model.chat_requests
    assert request.user_text.startswith(f"Explain the code below, from `{shop}`, line 5 (python)")
    assert "```python\n    return reslt\n```" in request.user_text
    assert result["server_exit"] == {"code": 0, "signal": 0}
