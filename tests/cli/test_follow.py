"""``cline-bridge task --follow`` as a user runs it, against a fake bridge that streams events."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.cli.answers import StdinLines
from cline_bridge.cli.follow import FollowSettings, follow_task
from cline_bridge.client import Bridge
from tests.support.environment import without_cline_settings
from tests.support.fake_endpoint import FakeEndpoint, Reply, TaskEvents

TIMEOUT = 60
STARTED = {"host": "acp", "taskId": "t1", "state": "running", "action": "started"}
PRESSED = {"host": "acp", "taskId": "t1", "state": "running", "action": "approved"}
START = "clineBridge.startNewTask"
PRIMARY = "clineBridge.pressPrimaryButton"
SECONDARY = "clineBridge.pressSecondaryButton"


@pytest.fixture
def ev() -> TaskEvents:
    return TaskEvents("t1")


TERMINAL_SETTINGS = ("NO_COLOR", "FORCE_COLOR", "PAGER", "LESS", "COLUMNS", "LINES", "TERM")
"""What a person's shell may set that changes how a followed task looks: the tests choose."""


def environment(encoding: str = "utf-8", **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in TERMINAL_SETTINGS}
    return without_cline_settings(inherited, PYTHONIOENCODING=encoding, **extra)


def task(
    *args: str,
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    answers: str | None = None,
    encoding: str = "utf-8",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cline-bridge task ARGS``; ``answers`` is piped into its stdin; ``env`` is added to
    an environment without any of ``TERMINAL_SETTINGS``."""
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", "task", *args],
        cwd=cwd,
        env=environment(encoding, **(env or {})),
        stdin=None if answers is not None else stdin,
        input=answers,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@contextlib.contextmanager
def running(*args: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """``cline-bridge task ARGS`` in the background; killed if the test ends before it does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cline_bridge", "task", *args],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


END = "  \u2500\u2500 end_turn \u00b7 <time>"
"""The end of a turn that ended normally, as ``shown`` writes it."""


def shown(stdout: str) -> list[str]:
    """What was printed after the "Task sent" line, the turn's time made constant."""
    time = re.compile(r"( \u00b7 |, )(\d+(\.\d)?s|\d+m\d\ds)\b")
    return [time.sub(r"\1<time>", line, count=1) for line in stdout.splitlines()[1:]]


def commands(fake: FakeEndpoint) -> list[str]:
    return [params["command"] for params in fake.commands()]


def turn(ev: TaskEvents, *middle: dict[str, Any], stop: str = "end_turn") -> list[dict[str, Any]]:
    """One first turn: started, turnStart, ``middle``, turnEnd (idle)."""
    return [
        ev("started", text="go", images=0),
        ev("turnStart", turn=1, text="go", images=0),
        *middle,
        ev("turnEnd", "idle", turn=1, stopReason=stop),
    ]


def tool(ev: TaskEvents, status: str, title: str = "Edit app.py") -> dict[str, Any]:
    return ev(
        "toolCall",
        toolCallId="c1",
        title=title,
        toolKind="edit",
        status=status,
        input=None,
        output=None,
    )


def approval(ev: TaskEvents, ask_id: str = "a1") -> dict[str, Any]:
    return ev(
        "approval",
        "awaitingApproval",
        askId=ask_id,
        toolCallId="c1",
        tool="run_commands",
        title="run_commands: ls",
        toolKind="execute",
        input={"commands": ["ls"]},
        options=["allow_once", "reject_once"],
    )


def resolved(ev: TaskEvents, outcome: str, source: str, ask_id: str = "a1") -> dict[str, Any]:
    return ev("approvalResolved", askId=ask_id, toolCallId="c1", outcome=outcome, source=source)


# -- rendering -------------------------------------------------------------------------------


def test_messages_stream_and_tool_calls_are_one_line_per_status(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = turn(
        ev,
        ev("thought", text="Let me see."),
        ev("thought", text=" The file."),
        ev("message", text="Hello"),
        ev("message", text=" world"),
        tool(ev, "pending"),
        tool(ev, "in_progress"),
        tool(ev, "in_progress", title="Edit app.py (lines 1-3)"),  # not a status change
        tool(ev, "completed"),
        ev("message", text="Done.\nAll good."),
    )
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("Task sent to Cline (acp host, task t1).\n")
    assert shown(done.stdout) == [
        "  \u2026 thinking",
        "Hello world",
        "  \u00b7 Edit app.py",
        "  \u2699 Edit app.py",
        "  \u2713 Edit app.py",
        "Done.",
        "All good.",
        END,
    ]
    assert commands(fake) == [START]


def test_a_terminal_without_unicode_gets_ascii(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = turn(ev, tool(ev, "completed"), ev("message", text="caf\u00e9 \x1b[31mred\x1b[0m"))
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path, encoding="ascii")

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  + Edit app.py",
        "caf? [31mred[0m",
        "  -- end_turn, <time>",
    ]


def test_later_turns_and_queued_messages_are_shown_and_followed(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = [
        ev("started", text="go", images=0),
        ev("turnStart", turn=1, text="go", images=0),
        ev("message", text="First."),
        ev("queued", text="and the docs", images=1),
        ev("turnEnd", turn=1, stopReason="end_turn"),  # running: the queued message is next
        ev("turnStart", turn=2, text="and the docs", images=1),
        ev("message", text="Second."),
        ev("turnEnd", "idle", turn=2, stopReason="end_turn"),
    ]
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "First.",
        "  (queued: and the docs (+1 image))",
        END,
        "> and the docs (+1 image)",
        "Second.",
        END,
    ]


def test_events_that_beat_the_answer_are_kept_and_other_tasks_ignored(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    old = ev.other("t0")
    before = [
        old("message", text="an older task"),
        ev("started", text="go", images=0),
        ev("turnStart", turn=1, text="go", images=0),
        ev("message", text="early, "),
    ]
    after = [
        old("message", text="still the older task"),
        ev("message", text="then late"),
        ev("turnEnd", "idle", turn=1, stopReason="end_turn"),
    ]
    fake.script[START] = Reply(result=STARTED, events_before=before, events_after=after)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == ["early, then late", END]


def test_json_prints_each_event_of_the_task_as_received_in_order(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    old = ev.other("t0")
    before = [old("message", text="elsewhere"), ev("started", text="go", images=0)]
    after = [
        ev("turnStart", turn=1, text="go", images=0),
        ev("message", text="caf\u00e9 \u2603\n"),
        tool(ev, "in_progress"),
        tool(ev, "in_progress"),
        old("message", text="elsewhere"),
        ev("turnEnd", "idle", turn=1, stopReason="end_turn"),
    ]
    fake.script[START] = Reply(result=STARTED, events_before=before, events_after=after)

    done = task("go", "--follow", "--json", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        before[1],
        *after[:4],
        after[5],
    ]
    assert "caf\u00e9 \u2603" in done.stdout, "text is printed as it is, not escaped"


# -- approvals -------------------------------------------------------------------------------


def test_yes_approves_every_ask_and_says_so(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(
        result=STARTED, events_after=turn(ev, approval(ev))[:-1]
    )  # the turn goes on once approved
    fake.script[PRIMARY] = Reply(
        result=PRESSED,
        events_after=[
            resolved(ev, "allowed", "button"),
            tool(ev, "completed", title="Run ls"),
            ev("turnEnd", "idle", turn=1, stopReason="end_turn"),
        ],
    )

    done = task("go", "--follow", "--yes", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  ? Cline wants to run `ls`",
        "    $ ls",
        f"    in {tmp_path}",
        "  Approved automatically (--yes).",
        "  \u2713 run `ls`",
        END,
    ]
    assert commands(fake) == [START, PRIMARY]


def test_yes_with_json_keeps_stdout_json(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, approval(ev))[:-1])
    fake.script[PRIMARY] = Reply(
        result=PRESSED,
        events_after=[
            resolved(ev, "allowed", "button"),
            ev("turnEnd", "idle", turn=1, stopReason="end_turn"),
        ],
    )

    done = task("go", "--follow", "--json", "--yes", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "cline-bridge: Approved automatically (--yes).\n")
    kinds = [json.loads(line)["kind"] for line in done.stdout.splitlines()]
    assert kinds == ["started", "turnStart", "approval", "approvalResolved", "turnEnd"]
    assert commands(fake) == [START, PRIMARY]


@pytest.mark.parametrize(
    ("answers", "echo", "button"),
    [
        ("y\n", ["y"], PRIMARY),
        ("Yes\n", ["Yes"], PRIMARY),
        ("n\n", ["n"], SECONDARY),
        ("\n", [""], SECONDARY),
        ("", ["(end of input: no)"], SECONDARY),
    ],
)
def test_the_question_is_answered_from_a_pipe(
    fake: FakeEndpoint,
    bridge_file: Path,
    tmp_path: Path,
    ev: TaskEvents,
    answers: str,
    echo: list[str],
    button: str,
) -> None:
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, approval(ev))[:-1])
    end = [ev("turnEnd", "idle", turn=1, stopReason="end_turn")]
    fake.script[PRIMARY] = Reply(result=PRESSED, events_after=end)
    fake.script[SECONDARY] = Reply(result={**PRESSED, "action": "rejected"}, events_after=end)

    done = task("go", "--follow", cwd=tmp_path, answers=answers)

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  ? Cline wants to run `ls`",
        "    $ ls",
        f"    in {tmp_path}",
        *(f"  Approve? [y/N/?] {line}" for line in echo),
        END,
    ]
    assert commands(fake) == [START, button]


def test_two_asks_take_two_answers_in_order(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(
        result=STARTED, events_after=turn(ev, approval(ev, "a1"), approval(ev, "a2"))[:-1]
    )
    fake.script[PRIMARY] = Reply(result=PRESSED)
    end = [ev("turnEnd", "idle", turn=1, stopReason="end_turn")]
    fake.script[SECONDARY] = Reply(result={**PRESSED, "action": "rejected"}, events_after=end)

    done = task("go", "--follow", cwd=tmp_path, answers="y\nn\n")

    assert (done.returncode, done.stderr) == (0, "")
    assert commands(fake) == [START, PRIMARY, SECONDARY]


@pytest.fixture
def silent_stdin() -> Iterator[int]:
    """A pipe nobody writes to until the test ends: a question asked there is never answered."""
    read, write = os.pipe()
    try:
        yield read
    finally:
        os.close(read)
        os.close(write)


def test_an_ask_resolved_elsewhere_is_not_answered_here(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents, silent_stdin: int
) -> None:
    events = turn(
        ev, approval(ev), resolved(ev, "allowed", "dialog"), tool(ev, "completed", title="Run ls")
    )
    fake.script[START] = Reply(result=STARTED, events_after=events, event_delay=0.2)

    done = task("go", "--follow", cwd=tmp_path, stdin=silent_stdin)

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  ? Cline wants to run `ls`",
        "    $ ls",
        f"    in {tmp_path}",
        "  Approve? [y/N/?] ",
        "  Approval allowed (dialog).",
        "  \u2713 run `ls`",
        END,
    ]
    assert commands(fake) == [START]


def test_json_without_yes_leaves_asks_to_others(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = turn(ev, approval(ev), resolved(ev, "rejected", "button"))
    fake.script[START] = Reply(result=STARTED, events_after=events, event_delay=0.05)

    done = task("go", "--follow", "--json", cwd=tmp_path, answers="y\n")

    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line) for line in done.stdout.splitlines()] == events
    assert commands(fake) == [START]


def test_with_nobody_to_ask_the_ask_is_left_to_others(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = turn(ev, approval(ev), resolved(ev, "rejected", "button"))
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)  # stdin is /dev/null: not a terminal, no pipe

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  ? Cline wants to run `ls`",
        "    $ ls",
        f"    in {tmp_path}",
        "  Waiting for an answer: in the editor, or cline-bridge approve | reject.",
        "  Approval rejected (button).",
        END,
    ]
    assert commands(fake) == [START]


# -- what an approval shows ------------------------------------------------------------------


def edit_approval(ev: TaskEvents, path: Path, old_text: str, new_text: str) -> dict[str, Any]:
    return ev(
        "approval",
        "awaitingApproval",
        askId="a1",
        toolCallId="c1",
        tool="editor",
        title=f"editor: edit {path}",
        toolKind="edit",
        input={"path": str(path), "old_text": old_text, "new_text": new_text},
        options=["allow_once", "reject_once"],
    )


def ask_then_end(fake: FakeEndpoint, ev: TaskEvents, *middle: dict[str, Any]) -> None:
    """The task asks (``middle``); either answer ends the turn."""
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, *middle)[:-1])
    end = [ev("turnEnd", "idle", turn=1, stopReason="end_turn")]
    fake.script[PRIMARY] = Reply(result=PRESSED, events_after=end)
    fake.script[SECONDARY] = Reply(result={**PRESSED, "action": "rejected"}, events_after=end)


def test_an_edit_shows_its_diff_against_the_file_before_the_question(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    app = tmp_path / "src" / "app.py"
    app.parent.mkdir()
    app.write_text("def main():\n    print('hi')\n\n\nmain()\n")
    ask_then_end(fake, ev, edit_approval(ev, app, "print('hi')", "print('hello')"))

    done = task("go", "--follow", cwd=tmp_path, answers="n\n")

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout) == [
        "  ? Cline wants to edit src/app.py",
        "    --- src/app.py",
        "    +++ src/app.py",
        "    @@ -1,5 +1,5 @@",
        "     def main():",
        "    -    print('hi')",
        "    +    print('hello')",
        "     ",
        "     ",
        "     main()",
        "  Approve? [y/N/d/?] n",
        END,
    ]
    assert commands(fake) == [START, SECONDARY]


def test_d_shows_the_whole_diff_and_asks_again(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    notes = tmp_path / "notes.md"
    content = "".join(f"line {number}\n" for number in range(1, 41))
    approval_event = edit_approval(ev, notes, "", content)  # no old_text: a new file
    ask_then_end(fake, ev, approval_event)

    done = task("go", "--follow", cwd=tmp_path, answers="d\ny\n", env={"LINES": "20"})

    assert (done.returncode, done.stderr) == (0, "")
    lines = shown(done.stdout)
    header = [
        "  ? Cline wants to create notes.md",
        "    --- /dev/null",
        "    +++ notes.md",
        "    @@ -0,0 +1,40 @@",
    ]
    first_screen = [f"    +line {number}" for number in range(1, 10)]  # 12 lines: 20 - 8
    assert lines[: len(header) + 9] == header + first_screen
    assert lines[len(header) + 9] == "    \u2026 31 more lines (d shows them all)"
    asked = lines.index("  Approve? [y/N/d/?] d")
    assert lines[asked + 1 : asked + 4] == ["    --- /dev/null", "    +++ notes.md", header[3]]
    assert lines[asked + 4 : asked + 44] == [f"    +line {n}" for n in range(1, 41)]
    assert lines[asked + 44 :] == ["  Approve? [y/N/d/?] y", END]
    assert commands(fake) == [START, PRIMARY]


def test_question_mark_explains_and_other_answers_ask_again(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    ask_then_end(fake, ev, edit_approval(ev, tmp_path / "new.txt", "", "x\n"))

    done = task("go", "--follow", cwd=tmp_path, answers="?\nmaybe\nn\n")

    assert (done.returncode, done.stderr) == (0, "")
    lines = shown(done.stdout)
    asked = lines.index("  Approve? [y/N/d/?] ?")
    assert lines[asked + 1 :] == [
        "    y  approve: Cline goes on and uses the tool",
        "    n  reject (also Enter, or the end of the input): Cline is told no",
        "    d  show the whole diff",
        "    ?  this help",
        "  Approve? [y/N/d/?] maybe",
        "    Answer y or n (? explains).",
        "  Approve? [y/N/d/?] n",
        END,
    ]
    assert commands(fake) == [START, SECONDARY]


def test_a_rejected_tool_says_so_and_the_turn_says_what_it_cost(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    call = {"toolCallId": "c1", "tool": "run_commands", "title": "run_commands: ls"}
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, approval(ev))[:-1])
    usage = {"inputTokens": 1240, "outputTokens": 56, "cacheReadTokens": 0, "cost": 0.0031}
    fake.script[SECONDARY] = Reply(
        result={**PRESSED, "action": "rejected"},
        events_after=[
            resolved(ev, "rejected", "button"),
            ev("toolCall", **call, toolKind="execute", status="failed", input=None, output=None),
            ev("turnEnd", "idle", turn=1, stopReason="end_turn", usage=usage),
        ],
    )

    done = task("go", "--follow", cwd=tmp_path, answers="n\n")

    assert (done.returncode, done.stderr) == (0, "")
    assert shown(done.stdout)[-2:] == [
        "  \u2717 run `ls` (rejected)",
        "  \u2500\u2500 end_turn \u00b7 <time> \u00b7 1,240 tokens in, 56 out \u00b7 $0.0031",
    ]


# -- colour ----------------------------------------------------------------------------------

ESCAPE = "\x1b"


@pytest.mark.parametrize(
    ("options", "env", "coloured"),
    [
        ((), {}, False),  # a pipe
        (("--color", "always"), {}, True),
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # a flag beats the environment
    ],
)
def test_colour_follows_the_flag_then_no_color_then_force_color(
    fake: FakeEndpoint,
    bridge_file: Path,
    tmp_path: Path,
    ev: TaskEvents,
    options: tuple[str, ...],
    env: dict[str, str],
    coloured: bool,
) -> None:
    ask_then_end(fake, ev, edit_approval(ev, tmp_path / "new.txt", "", "x\n"))

    done = task("go", "--follow", *options, cwd=tmp_path, answers="y\n", env=env)

    assert (done.returncode, done.stderr) == (0, "")
    assert (ESCAPE in done.stdout) is coloured
    if coloured:
        assert "    \x1b[32m+x\x1b[0m\n" in done.stdout, "an added line is green, as in git diff"
    else:
        assert "    +x\n" in done.stdout


# -- how it ends -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "status", "reason"),
    [
        ("end_turn", 0, ""),
        ("cancelled", 1, "cline-bridge: the turn was cancelled\n"),
        ("max_tokens", 1, "cline-bridge: Cline stopped the turn: max_tokens\n"),
    ],
)
def test_the_stop_reason_is_the_exit_status(
    fake: FakeEndpoint,
    bridge_file: Path,
    tmp_path: Path,
    ev: TaskEvents,
    stop: str,
    status: int,
    reason: str,
) -> None:
    events = turn(ev, ev("message", text="partial"), stop=stop)
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, shown(done.stdout), done.stderr) == (
        status,
        ["partial", END.replace("end_turn", stop)],
        reason,
    )


def test_a_failed_task_exits_1_with_its_error(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = [
        ev("started", text="go", images=0),
        ev("turnStart", turn=1, text="go", images=0),
        ev("message", text="Working"),
        ev("error", message="The model is overloaded; retrying.", code=None),  # not the end
        ev("error", "failed", message="The Cline CLI exited (status 1).", code=None),
    ]
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stdout) == (
        1,
        "Task sent to Cline (acp host, task t1).\nWorking\n",
    )
    assert done.stderr == (
        "cline-bridge: The model is overloaded; retrying.\n"
        "cline-bridge: The Cline CLI exited (status 1).\n"
    )


def test_a_final_error_ends_the_follow_though_the_task_runs_on(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    lost = "Cline's task records cannot be read: a messages file of version 2; no more events"
    events = [
        ev("started", text="go", images=0),
        ev("error", message=lost, code=None, final=True),  # the editor host lost the records
    ]
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (1, f"cline-bridge: {lost}\n")


def test_a_task_replaced_by_a_new_one_ends_the_follow(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    events = [ev("started", text="go", images=0), ev.other("t2")("started", text="other", images=0)]
    fake.script[START] = Reply(result=STARTED, events_after=events)

    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (
        1,
        "cline-bridge: the task was replaced by a new one (task t2)\n",
    )


def test_a_lost_bridge_ends_the_follow_with_exit_1(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(result=STARTED, events_after=[ev("started", text="go", images=0)])
    with running("go", "--follow", cwd=tmp_path) as process:
        assert process.stdout is not None
        # It has the task's answer and follows: now the sidecar goes away.
        assert process.stdout.readline() == "Task sent to Cline (acp host, task t1).\n"
        fake.close()
        stdout, stderr = process.communicate(timeout=TIMEOUT)

    assert (process.returncode, stdout, stderr) == (
        1,
        "",
        "cline-bridge: the bridge closed the connection\n",
    )


def test_an_editor_host_has_no_events_to_follow(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    done = task("go", "--follow", cwd=tmp_path)

    assert (done.returncode, done.stdout) == (0, "Task sent to Cline (editor host).\n")
    assert done.stderr == (
        "cline-bridge: this bridge's host sends no task events; follow the task in the editor\n"
    )


def test_ctrl_c_stops_following_but_not_the_task(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, ev("message", text="Hi"))[:-1])
    with running("go", "--follow", cwd=tmp_path) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "Task sent to Cline (acp host, task t1).\n"
        assert process.stdout.read(2) == "Hi"  # following
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)

    assert process.returncode == 130
    assert stdout == "\n"  # the paragraph is ended
    assert stderr == "\ncline-bridge: stopped following; the task goes on in the bridge\n"
    assert commands(fake) == [START]
    fake.wait_for(lambda m: m.get("method") == "exit")  # it still said goodbye


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--yes"], "--yes and --json need --follow (or --headless)"),
        (["--json"], "--yes and --json need --follow (or --headless)"),
        (
            ["--headless", "--bridge", "x.json"],
            "--headless starts its own sidecar: it takes no --bridge",
        ),
    ],
)
def test_flags_that_do_not_fit_are_usage_errors(
    runtime: Path, tmp_path: Path, args: list[str], problem: str
) -> None:
    done = task("go", *args, cwd=tmp_path)

    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"cline-bridge task: {problem}\n")


# -- the pieces, in process ------------------------------------------------------------------


async def test_asks_nobody_can_answer_are_rejected_when_asked_to(
    fake: FakeEndpoint, bridge_file: Path, ev: TaskEvents
) -> None:
    """What ``--headless`` does when nobody can answer here (there is nobody else to ask)."""
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, approval(ev))[:-1])
    end = [resolved(ev, "rejected", "button"), ev("turnEnd", "idle", turn=1, stopReason="end_turn")]
    fake.script[SECONDARY] = Reply(result={**PRESSED, "action": "rejected"}, events_after=end)
    out, err = io.StringIO(), io.StringIO()

    async with Bridge.connect(bridge_file, subscribe_events=True) as bridge:
        await bridge.start_new_task("go")
        settings = FollowSettings(json_lines=True, reject_unanswered=True)
        status = await asyncio.wait_for(
            follow_task(bridge, "t1", out=out, err=err, settings=settings), TIMEOUT
        )

    assert status == 0
    assert [json.loads(line)["kind"] for line in out.getvalue().splitlines()][-3:] == [
        "approval",
        "approvalResolved",
        "turnEnd",
    ]
    assert err.getvalue() == (
        "cline-bridge: Rejected: nobody here can answer (--yes approves every ask).\n"
    )
    assert commands(fake) == [START, SECONDARY]


async def test_stdin_lines_split_a_pipe_and_its_end_stays() -> None:
    read, write = os.pipe()
    try:
        os.write(write, "y\r\nno\ncaf\u00e9".encode())
        os.close(write)
        write = -1
        lines = StdinLines(read)
        assert (StdinLines.can_ask(read), lines.echo) == (True, True)

        got = [await asyncio.wait_for(lines.readline(), TIMEOUT) for _ in range(5)]

        assert got == ["y", "no", "caf\u00e9", None, None]
    finally:
        os.close(read)
        if write != -1:
            os.close(write)


def test_only_a_terminal_or_a_pipe_can_be_asked(tmp_path: Path) -> None:
    with open(os.devnull, "rb") as null, open(tmp_path / "answers", "wb+") as file:
        assert not StdinLines.can_ask(null.fileno())
        assert not StdinLines.can_ask(file.fileno())
    assert not StdinLines.can_ask(1_000_000)  # not open


class _HeldAnswer:
    """A ``LineSource`` that answers ``y`` once the test releases it."""

    echo = True

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def readline(self) -> str | None:
        self.asked.set()
        await self.release.wait()
        return "y"


async def test_what_arrives_while_a_question_waits_is_printed_after_its_answer(
    fake: FakeEndpoint, bridge_file: Path, ev: TaskEvents
) -> None:
    fake.script[START] = Reply(result=STARTED, events_after=turn(ev, approval(ev))[:-1])
    end = [ev("turnEnd", "idle", turn=1, stopReason="end_turn")]
    fake.script[PRIMARY] = Reply(result=PRESSED, events_after=end)
    answers, out, err = _HeldAnswer(), io.StringIO(), io.StringIO()

    async with Bridge.connect(bridge_file, subscribe_events=True) as bridge:
        await bridge.start_new_task("go")
        settings = FollowSettings(answers=answers, cwd="/w", task_folder="/w")
        following = asyncio.ensure_future(
            follow_task(bridge, "t1", out=out, err=err, settings=settings)
        )
        await asyncio.wait_for(answers.asked.wait(), TIMEOUT)
        fake.emit(ev("message", text="Meanwhile."))
        await asyncio.sleep(0.5)  # the follower has it, and holds it
        assert out.getvalue().endswith("  Approve? [y/N/?] ")
        answers.release.set()
        status = await asyncio.wait_for(following, TIMEOUT)

    assert status == 0
    assert shown("Task sent\n" + out.getvalue())[-3:] == [
        "  Approve? [y/N/?] y",
        "Meanwhile.",
        "  -- end_turn, <time>",  # a StringIO names no encoding: ASCII marks
    ]
