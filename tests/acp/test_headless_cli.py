"""``cline-bridge task --headless --follow --yes`` as a user runs it: a subprocess in a folder,
a private sidecar, the real Cline CLI behind it, the fake model behind that."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.cline_env import ClineHome

CLI_TIMEOUT = 60.0


def _run_task(home: ClineHome, *options: str) -> subprocess.CompletedProcess[str]:
    env = home.spawn_env() | {"CLINE_BRIDGE_ACP_COMMAND": shlex.join(home.command)}
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", "task", "create notes.md", *options],
        cwd=home.workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def test_headless_follow_yes_creates_the_file(
    cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "notes.md"
    fake_model.script(
        write_file(target, "# Notes\n", text_before="Writing the notes."),
        text_turn("Created notes.md."),
    )

    run = _run_task(cline_home, "--headless", "--follow", "--yes")

    assert run.returncode == 0, run.stderr
    assert target.read_text() == "# Notes\n"
    assert "Writing the notes." in run.stdout
    assert "Created notes.md." in run.stdout
    assert "Approved automatically (--yes)." in run.stdout + run.stderr


def test_headless_json_prints_the_events(cline_home: ClineHome, fake_model: FakeClineAPI) -> None:
    target = cline_home.workspace / "notes.md"
    fake_model.script(write_file(target, "json\n"), text_turn("Done."))

    run = _run_task(cline_home, "--headless", "--json", "--yes")

    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    kinds = [event["kind"] for event in events]
    assert kinds[:2] == ["started", "turnStart"]
    assert "approval" in kinds
    assert events[-1]["kind"] == "turnEnd"
    assert events[-1]["stopReason"] == "end_turn"
    assert len({event["taskId"] for event in events}) == 1
    assert target.read_text() == "json\n"


def test_headless_rejects_what_no_one_can_approve(
    cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    target = cline_home.workspace / "notes.md"
    fake_model.script(write_file(target, "unwanted\n"), text_turn("I did not write it."))

    run = _run_task(cline_home, "--headless")  # stdin is /dev/null: nobody to ask

    assert run.returncode == 0, run.stderr
    assert not target.exists()
    assert "User rejected" in str(fake_model.chat_requests[1].tool_results)
