"""``cline-bridge task|send|approve|reject|status`` as a user runs them: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.wire.discovery import NO_BRIDGE_MESSAGE, write_discovery
from tests.support.discovery_fixtures import make_record
from tests.support.environment import without_cline_settings
from tests.support.fake_endpoint import FakeEndpoint, Reply

TIMEOUT = 60
PRESS = {"approve": "clineBridge.pressPrimaryButton", "reject": "clineBridge.pressSecondaryButton"}


def cline_bridge(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", *args],
        cwd=cwd,
        env=without_cline_settings(**(env or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, done.stderr


def test_task_starts_a_task(fake: FakeEndpoint, bridge_file: Path, tmp_path: Path) -> None:
    done = cline_bridge("task", "Fix the tests", "--bridge", str(bridge_file), cwd=tmp_path)

    assert outcome(done) == (0, "Task sent to Cline (editor host).\n", "")
    assert fake.commands() == [
        {"command": "clineBridge.startNewTask", "arguments": [{"task": "Fix the tests"}]}
    ]
    fake.wait_for(lambda m: m.get("method") == "exit")


def test_images_are_sent_as_absolute_paths(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "shots").mkdir()

    done = cline_bridge(
        "send", "like this", "-i", "a.png", "--image", "shots/b.png", cwd=tmp_path / "shots"
    )

    assert outcome(done) == (0, "Message sent to Cline (editor host).\n", "")
    assert fake.commands()[0]["arguments"] == [
        {
            "message": "like this",
            "images": [
                str(tmp_path / "shots" / "a.png"),
                str(tmp_path / "shots" / "shots" / "b.png"),
            ],
        }
    ]


@pytest.mark.parametrize(
    ("command", "line", "wire"),
    [
        ("approve", "Approved.", "clineBridge.pressPrimaryButton"),
        ("reject", "Rejected.", "clineBridge.pressSecondaryButton"),
    ],
)
def test_approve_and_reject(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, command: str, line: str, wire: str
) -> None:
    done = cline_bridge(command, cwd=tmp_path)

    assert outcome(done) == (0, f"{line}\n", "")
    assert fake.commands() == [{"command": wire, "arguments": []}]


@pytest.mark.parametrize(
    ("command", "result", "line"),
    [
        pytest.param(
            "approve",
            {
                "action": "approved",
                "toolKind": "edit",
                "title": "editor: write {cwd}/hello.txt",
                "input": {"path": "{cwd}/hello.txt", "new_text": "hi"},
            },
            "Approved the edit of hello.txt.",
            id="approved",
        ),
        pytest.param(
            "reject",
            {
                "action": "rejected",
                "toolKind": "execute",
                "input": {"commands": ["rm -rf build", {"command": "make"}]},
            },
            "Rejected the command `rm -rf build; make`.",
            id="rejected",
        ),
        pytest.param(
            "approve",
            {"action": "none", "state": "idle"},
            "Nothing to approve: the task waits for a message.",
            id="none-idle",
        ),
        pytest.param(
            "reject",
            {"action": "none", "state": "none"},
            "Nothing to reject: there is no task.",
            id="none-no-task",
        ),
        pytest.param(
            "reject",
            {"action": "cancelled", "state": "idle"},
            "Stopped Cline's running turn.",
            id="cancelled",
        ),
        pytest.param(
            "approve",
            {"action": "pressed"},
            "Pressed Cline's primary button (this Cline does not tell the bridge what it "
            "waits for).",
            id="pressed",
        ),
    ],
)
def test_approve_and_reject_say_what_happened(
    fake: FakeEndpoint,
    bridge_file: Path,
    tmp_path: Path,
    command: str,
    result: dict[str, object],
    line: str,
) -> None:
    filled = json.loads(json.dumps(result).replace("{cwd}", str(tmp_path)))
    wire = PRESS[command]
    fake.script[wire] = Reply(result={"host": "editor", "dispatched": True, **filled})

    done = cline_bridge(command, cwd=tmp_path)

    assert outcome(done) == (0, f"{line}\n", "")


def test_force_and_json(fake: FakeEndpoint, bridge_file: Path, tmp_path: Path) -> None:
    result = {"host": "acp", "taskId": "t1", "state": "running", "action": "resumed"}
    fake.script["clineBridge.pressPrimaryButton"] = Reply(result=result)

    done = cline_bridge("approve", "--force", "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == result
    assert fake.commands() == [
        {"command": "clineBridge.pressPrimaryButton", "arguments": [{"force": True}]}
    ]


def test_the_bridge_is_found_through_cline_bridge(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path.parent  # not a workspace folder of the bridge

    done = cline_bridge("approve", cwd=elsewhere, env={"CLINE_BRIDGE": str(bridge_file)})

    assert outcome(done) == (0, "Approved.\n", "")


def test_the_acp_host_names_the_task(fake: FakeEndpoint, bridge_file: Path, tmp_path: Path) -> None:
    fake.script["clineBridge.startNewTask"] = Reply(result={"host": "acp", "taskId": "t-42"})

    done = cline_bridge("task", "go", cwd=tmp_path)

    assert outcome(done) == (0, "Task sent to Cline (acp host, task t-42).\n", "")


def test_an_error_answer_is_one_line_and_exit_1(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    message = "No Cline host: open this folder in VS Code with Cline, or install the Cline CLI"
    fake.script["clineBridge.startNewTask"] = Reply(error={"code": -32001, "message": message})

    done = cline_bridge("task", "go", cwd=tmp_path)

    assert outcome(done) == (1, "", f"cline-bridge: {message}\n")


def test_a_wrong_token_is_one_line_and_exit_1(
    fake: FakeEndpoint, runtime: Path, tmp_path: Path
) -> None:
    path = write_discovery(make_record(os.getpid(), endpoint=fake.address, token="old"))

    done = cline_bridge("approve", "--bridge", str(path), cwd=tmp_path)

    assert outcome(done) == (1, "", "cline-bridge: not authorised: wrong or missing token\n")


def test_with_no_bridge_running_the_hint_and_exit_1(runtime: Path, tmp_path: Path) -> None:
    for command in (["task", "go"], ["send", "x"], ["approve"], ["reject"], ["status"]):
        done = cline_bridge(*command, cwd=tmp_path)

        assert outcome(done) == (1, "", f"cline-bridge: {NO_BRIDGE_MESSAGE}\n"), command


def test_a_missing_bridge_file_is_one_line_and_exit_1(runtime: Path, tmp_path: Path) -> None:
    done = cline_bridge("approve", "--bridge", str(tmp_path / "gone.json"), cwd=tmp_path)

    assert done.returncode == 1
    assert done.stderr == (
        f"cline-bridge: {tmp_path / 'gone.json'} (from --bridge) does not exist: "
        "that bridge has stopped\n"
    )
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["task"], ["send"], ["approve", "now"], ["send", "x", "--follow"], ["task", "x", "-i"]],
)
def test_usage_errors_exit_2(runtime: Path, tmp_path: Path, args: list[str]) -> None:
    done = cline_bridge(*args, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    assert "usage: cline-bridge" in done.stderr


def test_status_lists_the_bridges_and_marks_the_chosen_one(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    other = live_pid()
    write_discovery(make_record(other, ["/srv/a", "/srv/b"], host="acp"))
    rows = {
        os.getpid(): f"{os.getpid()} editor 0.1.0   {tmp_path}",
        other: f"{other} acp    0.1.0   /srv/a, /srv/b",
    }

    done = cline_bridge("status", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    table, said = done.stdout.split("\n\n")
    assert said == "Task events: this bridge does not say.\n"
    header, *lines = table.splitlines()
    assert header.split() == ["PID", "HOST", "VERSION", "FOLDERS"]
    expected = [("*" if pid == os.getpid() else " ") + " " + rows[pid] for pid in sorted(rows)]
    assert [" ".join(line.split()) for line in lines] == [" ".join(r.split()) for r in expected]
    assert lines[sorted(rows).index(os.getpid())].startswith("* ")
    assert [params["command"] for params in fake.commands()] == ["clineBridge.status"], (
        "only the chosen bridge is asked"
    )


def test_status_marks_what_cline_bridge_names(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    other = live_pid()
    named = write_discovery(make_record(other, ["/srv/a"]))

    done = cline_bridge("status", cwd=tmp_path, env={"CLINE_BRIDGE": str(named)})

    marked = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("*")]
    assert marked == [str(other)]
    assert done.returncode == 1, "the named bridge is asked, and it cannot be reached"
    assert done.stderr.startswith("cline-bridge: ")


@pytest.mark.parametrize(
    ("status", "line"),
    [
        pytest.param(
            {
                "host": "editor",
                "editor": {
                    "events": True,
                    "reason": None,
                    "dataDir": "/home/me/.cline/data",
                    "taskId": "1796_x",
                    "state": "awaitingApproval",
                },
            },
            "Task events: on (from Cline's records in /home/me/.cline/data); task 1796_x: it "
            "waits for an approval.",
            id="editor",
        ),
        pytest.param(
            {
                "host": "editor",
                "editor": {"events": False, "reason": "Cline is not installed in this editor"},
            },
            "Task events: off: Cline is not installed in this editor. approve and reject press "
            "Cline's buttons without knowing what waits for an answer.",
            id="editor without events",
        ),
        pytest.param(
            {"host": "acp", "acp": {"taskId": None, "state": "none"}},
            "Task events: on (the Cline CLI over ACP); no task yet.",
            id="acp",
        ),
    ],
)
def test_status_says_whether_the_bridge_sends_task_events(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, status: dict[str, Any], line: str
) -> None:
    fake.script["clineBridge.status"] = Reply(result=status)

    done = cline_bridge("status", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"\n\n{line}\n")


def test_status_with_several_and_none_serving_here(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    write_discovery(make_record(live_pid(), ["/srv/a"]))
    write_discovery(make_record(live_pid(), ["/srv/b"]))

    done = cline_bridge("status", cwd=tmp_path)

    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 3
    assert not any(line.startswith("*") for line in done.stdout.splitlines())
    assert done.stderr == (
        "cline-bridge: none serves this folder; choose one with --bridge FILE or CLINE_BRIDGE\n"
    )


def test_status_with_a_stale_bridge_file_is_an_error(
    runtime: Path, tmp_path: Path, dead_pid: int
) -> None:
    stale = tmp_path / "old.json"
    stale.write_text(json.dumps(make_record(dead_pid).to_json()))

    done = cline_bridge("status", "--bridge", str(stale), cwd=tmp_path)

    assert outcome(done) == (
        1,
        "",
        f"cline-bridge: {stale} (from --bridge) is stale: "
        f"its bridge (pid {dead_pid}) has stopped\n",
    )
