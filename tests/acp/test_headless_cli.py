"""``cline-bridge task --headless --follow`` as a user runs it: a subprocess in a folder, a
private sidecar, the real Cline CLI behind it, the fake model behind that. What it prints into a
pipe is checked here as exact text; the terminal form, through tmux, in test_follow_terminal.py."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.fakes.cline_api import FakeClineAPI, call_tool, text_turn, write_file
from tests.support.cline_env import ClineHome

CLI_TIMEOUT = 60.0
TERMINAL_SETTINGS = ("NO_COLOR", "FORCE_COLOR", "PAGER", "COLUMNS", "LINES", "TERM")


def _run_task(
    home: ClineHome,
    *options: str,
    answers: str | None = None,
    env: dict[str, str] | None = None,
    text: str = "create notes.md",
) -> subprocess.CompletedProcess[str]:
    """``cline-bridge task TEXT OPTIONS`` in the home's workspace; ``answers`` piped into its
    stdin (else /dev/null); ``env`` added to an environment without ``TERMINAL_SETTINGS``."""
    base = {k: v for k, v in home.spawn_env().items() if k not in TERMINAL_SETTINGS}
    command = {"CLINE_BRIDGE_ACP_COMMAND": shlex.join(home.command)}
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", "task", text, *options],
        cwd=home.workspace,
        env=base | command | (env or {}),
        stdin=subprocess.DEVNULL if answers is None else None,
        input=answers,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def _transcript(stdout: str) -> list[str]:
    """The lines printed, with the task id and the turn's time made constant."""
    stdout = re.sub(r"task \S+_cli\)", "task <id>)", stdout)
    return [re.sub(r" \u00b7 \d+(\.\d)?s", " \u00b7 <time>", line) for line in stdout.splitlines()]


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


def test_each_approval_shows_what_it_would_do_before_the_question(
    cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    """An edit (answered n: no file) and then a command (answered y: it runs), in one task, as
    exact text: a pipe gets no escape codes."""
    target = cline_home.workspace / "hello.txt"
    fake_model.script(
        write_file(target, "Hello, world!\n", text_before="I will create the file."),
        call_tool("run_commands", {"commands": ["echo hi > ran.txt"]}, call_id="call_run_0"),
        text_turn("I ran it, and created nothing."),
    )

    run = _run_task(cline_home, "--headless", answers="n\ny\n", text="Create hello.txt")

    assert run.returncode == 0, run.stderr
    assert not target.exists()
    assert (cline_home.workspace / "ran.txt").read_text() == "hi\n"
    assert _transcript(run.stdout) == [
        "Task sent to Cline (acp host, task <id>).",
        "I will create the file.",
        "  \u00b7 create hello.txt",
        "  ? Cline wants to create hello.txt",
        "    --- /dev/null",
        "    +++ hello.txt",
        "    @@ -0,0 +1 @@",
        "    +Hello, world!",
        "  Approve? [y/N/d/?] n",
        "  \u2717 create hello.txt (rejected)",
        "  \u00b7 run `echo hi > ran.txt`",
        "  ? Cline wants to run `echo hi > ran.txt`",
        "    $ echo hi > ran.txt",
        f"    in {cline_home.workspace}",
        "  Approve? [y/N/?] y",
        "  \u2699 run `echo hi > ran.txt`",
        "  \u2713 run `echo hi > ran.txt`",
        "I ran it, and created nothing.",
        "  \u2500\u2500 end_turn \u00b7 <time> \u00b7 42 tokens in, 24 out",
    ]
    assert "\x1b" not in run.stdout + run.stderr, "a pipe gets no escape codes"
    assert "User rejected" in str(fake_model.chat_requests[1].tool_results)


README = Path(__file__).resolve().parents[2] / "README.md"
README_RUN = '$ echo y | cline-bridge task "Make greet.py greet the world" --headless'


def _readme_transcript() -> list[str]:
    """The lines the README shows after ``README_RUN``, up to the end of its block."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(README_RUN) + 1
    return lines[start : lines.index("```", start)]


def test_the_readme_transcript_is_what_a_run_prints(
    cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    greet = cline_home.workspace / "greet.py"
    greet.write_text("def main():\n    print('hi')\n\n\nmain()\n")
    patch = (
        f"*** Begin Patch\n*** Update File: {greet}\n@@ def main():\n"
        "-    print('hi')\n+    print('Hello, world!')\n*** End Patch"
    )
    fake_model.script(
        call_tool("apply_patch", {"input": patch}, text_before="I'll change the greeting."),
        text_turn("greet.py now prints Hello, world!"),
    )

    run = _run_task(cline_home, "--headless", answers="y\n", text="Make greet.py greet the world")

    assert run.returncode == 0, run.stderr
    assert greet.read_text() == "def main():\n    print('Hello, world!')\n\n\nmain()\n"
    assert _transcript(run.stdout) == _transcript("\n".join(_readme_transcript()))
