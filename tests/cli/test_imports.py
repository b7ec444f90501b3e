"""What each kind of cline-bridge command loads, in a real run to its end
(``tests/support/module_report.py`` reports): the one-shot commands nothing heavy, not even
asyncio; ``task --follow`` asyncio only; ``chat`` and ``models`` the REST client but nothing of
the sidecar."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI, json_reply, sse, text_chunks
from tests.support.environment import without_cline_settings
from tests.support.fake_endpoint import FakeEndpoint, Reply, TaskEvents
from tests.support.images import PNG_BYTES
from tests.support.module_report import loaded, run_reporting

SIDECAR_PACKAGES = ("pygls", "lsprotocol", "cattrs", "attrs")


def environment(**extra: str) -> dict[str, str]:
    return without_cline_settings(**extra)


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["approve"], "Approved.\n"),
        (["reject"], "Rejected.\n"),
        (["send", "yes"], "Message sent to Cline (editor host).\n"),
        (["task", "go", "-i", "shot.png"], "Task sent to Cline (editor host).\n"),
    ],
    ids=["approve", "reject", "send", "task"],
)
def test_one_shot_commands_load_nothing_heavy(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path, args: list[str], output: str
) -> None:
    (tmp_path / "shot.png").write_bytes(PNG_BYTES)

    done, modules = run_reporting(
        ["--", *args, "--bridge", str(bridge_file)],
        tmp_path / "report.json",
        cwd=tmp_path,
        env=environment(),
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, output, "")
    assert loaded(modules) == []
    # argparse would load shutil (with bz2, lzma, zlib) for a help width no run prints;
    # dataclasses brings inspect and ast, tempfile random and shutil.
    assert loaded(modules, ["shutil", "tempfile", "dataclasses"]) == []


def test_status_loads_nothing_heavy(fake: FakeEndpoint, bridge_file: Path, tmp_path: Path) -> None:
    done, modules = run_reporting(
        ["--", "status"], tmp_path / "report.json", cwd=tmp_path, env=environment()
    )

    assert done.returncode == 0
    assert str(os.getpid()) in done.stdout
    assert loaded(modules) == []


def test_task_follow_loads_asyncio_but_nothing_of_the_sidecar_or_the_rest_client(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    ev = TaskEvents("t1")
    fake.script["clineBridge.startNewTask"] = Reply(
        result={"host": "acp", "taskId": "t1", "state": "running", "action": "started"},
        events_after=[
            ev("started", text="go", images=0),
            ev("message", text="Done."),
            ev("turnEnd", "idle", turn=1, stopReason="end_turn"),
        ],
    )

    done, modules = run_reporting(
        ["--", "task", "go", "--follow", "--bridge", str(bridge_file)],
        tmp_path / "report.json",
        cwd=tmp_path,
        env=environment(),
    )

    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == ["Task sent to Cline (acp host, task t1).", "Done."]
    assert loaded(modules) == ["asyncio"]


@pytest.mark.parametrize("command", ["chat", "models"])
def test_the_rest_commands_load_no_pygls_lsprotocol_or_cattrs(
    fake_api: FakeClineAPI, tmp_path: Path, command: str
) -> None:
    if command == "chat":
        fake_api.script(sse(text_chunks("Paris")))
        args, output = ["chat", "Capital of France?", "--json"], '"text": "Paris"'
    else:
        fake_api.script(json_reply({"data": [{"id": "x/y"}]}))
        args, output = ["models"], "x/y\n"

    done, modules = run_reporting(
        ["--", *args],
        tmp_path / "report.json",
        cwd=tmp_path,
        env=environment(CLINE_API_KEY="sk-test", CLINE_API_BASE_URL=fake_api.url),
    )

    assert done.returncode == 0, done.stderr
    assert output in done.stdout
    assert loaded(modules, SIDECAR_PACKAGES) == []
    assert loaded(modules, ["httpx", "pydantic"]) == ["httpx", "pydantic"], "it did use them"
