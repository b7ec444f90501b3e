"""``Bridge.headless`` and ``task --headless``: a private sidecar over its stdio, always reaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.client import Bridge, BridgeConnectionError, BridgeTimeoutError, NoHostError
from tests.support import fake_sidecar as fake_sidecar_module
from tests.support import processes
from tests.support.environment import without_cline_settings

FAKE_SIDECAR = Path(fake_sidecar_module.__file__)
TIMEOUT = 60


def fake_sidecar(record: Path, mode: str) -> list[str]:
    return [sys.executable, str(FAKE_SIDECAR), str(record), mode]


def received(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_handshake_is_a_plain_lsp_initialize(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"

    async with Bridge.headless(
        tmp_path, command=fake_sidecar(record, "polite"), options={"model": "m"}
    ) as bridge:
        assert bridge.server_info == {"name": "cline-bridge", "version": "9"}
        assert (bridge.discovery_file, bridge.record) == (None, None)
        pid = bridge.pid
    assert pid is not None

    initialize, *rest = received(record)
    uri = tmp_path.as_uri()
    assert initialize["method"] == "initialize"
    assert initialize["params"] == {
        "processId": os.getpid(),
        "clientInfo": initialize["params"]["clientInfo"],
        "capabilities": {},
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": tmp_path.name}],
        "initializationOptions": {"model": "m", "control": False},
    }
    # The sidecar's own request is refused at once (it must never wait on us); its log ignored.
    assert rest[0] == {
        "jsonrpc": "2.0",
        "id": "s1",
        "error": {"code": -32601, "message": "Method not found: workspace/configuration"},
    }
    assert [m.get("method") for m in rest[1:]] == ["initialized", "shutdown", "exit"]
    assert gone(pid), "the sidecar is reaped"


async def test_a_sidecar_that_exits_at_once_is_a_clear_error(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]

    with pytest.raises(BridgeConnectionError, match="exited with status 3 before it answered"):
        await Bridge.headless(tmp_path, command=command)


async def test_a_command_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BridgeConnectionError, match=r"cannot start /nonexistent/serve: "):
        await Bridge.headless(tmp_path, command=["/nonexistent/serve"])


async def test_a_sidecar_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"

    with pytest.raises(BridgeTimeoutError, match="did not answer initialize within 1 s"):
        await Bridge.headless(tmp_path, command=fake_sidecar(record, "silent"), timeout=1.0)

    assert [m.get("method") for m in received(record)] == ["initialize", "$/cancelRequest"]


async def test_a_sidecar_that_will_not_stop_is_killed(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"
    bridge = await Bridge.headless(tmp_path, command=fake_sidecar(record, "stubborn"), timeout=1.0)
    pid = bridge.pid
    assert pid is not None
    assert not gone(pid)

    await bridge.aclose()

    assert gone(pid)
    assert [m.get("method") for m in received(record)][2:] == [
        "initialized",
        "shutdown",
        "$/cancelRequest",  # no answer within the timeout
        "exit",
    ]


async def test_the_real_sidecar_serves_this_folder_without_a_control_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINE_BRIDGE_ACP_COMMAND", str(tmp_path / "no-cline"))

    async with Bridge.headless(tmp_path) as bridge:
        status = await bridge.status()
        pid = bridge.pid
        assert status["pid"] == pid
        assert status["workspaceFolders"] == [tmp_path.as_uri()]
        assert status["control"] is None
        with pytest.raises(NoHostError, match="no-cline"):
            await bridge.start_new_task("go")
    assert pid is not None
    assert gone(pid)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to find processes")
def test_task_headless_without_cline_fails_and_leaves_no_process(tmp_path: Path) -> None:
    clean = without_cline_settings()
    missing = tmp_path / "no-cline"

    done = subprocess.run(
        [sys.executable, "-m", "cline_bridge", "task", "go", "--headless"],
        cwd=tmp_path,
        env={**clean, "CLINE_BRIDGE_ACP_COMMAND": str(missing)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("cline-bridge: No Cline host: ")
    assert str(missing) in done.stderr
    assert done.stderr.count("\n") == 1
    assert not processes_in(tmp_path), "the sidecar was stopped"


def processes_in(folder: Path) -> list[int]:
    """The pids of the processes whose working directory is ``folder``."""
    return [
        pid for pid in processes.all_pids() if (cwd := processes.cwd(pid)) and Path(cwd) == folder
    ]
