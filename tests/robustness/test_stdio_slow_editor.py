"""An editor that stops reading the sidecar's stdout (and stderr) must not freeze the sidecar:
scripts on the control endpoint keep being served, new ones authenticate, and a command that needs
the editor fails at once, saying why, instead of waiting. Once the editor reads again it gets
whole frames, and the sidecar still stops cleanly."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.robustness.canary import CANARY_KEY
from tests.support.editor_double import DOUBLE_OPTIONS
from tests.support.environment import without_cline_settings
from tests.support.raw_control import RawControl
from tests.support.raw_peer import TIMEOUT, RawSidecar, frame, raw_sidecar

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a Unix control socket")

FLOOD = 1500
"""Requests sent while the editor reads nothing: their answers and log messages are several
times what a pipe holds (64 KiB), as 100 logged failures or 600 queued commands already were."""
STALL_WAIT = 3.5
"""A little more than the outbox's ``stalled_after``: the editor then counts as stalled."""
ANSWERED_WITHIN = 5.0


async def test_scripts_are_served_while_the_editor_reads_nothing(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = without_cline_settings(XDG_RUNTIME_DIR=str(runtime), CLINE_API_KEY=CANARY_KEY)
    async with raw_sidecar(env=env) as sidecar:
        await sidecar.initialize({**DOUBLE_OPTIONS, "hostRequestTimeout": 30})
        record = await _discovery_record(sidecar)
        before = await RawControl.open(record["endpoint"])
        await before.initialize(record["token"])

        # From here on the editor reads neither stdout nor stderr.
        await _flood(sidecar)
        status = await asyncio.wait_for(before.execute("clineBridge.status"), ANSWERED_WITHIN)
        newcomer = await RawControl.open(record["endpoint"])
        welcome = await asyncio.wait_for(newcomer.initialize(record["token"]), ANSWERED_WITHIN)
        await asyncio.sleep(STALL_WAIT)
        forwarded = await asyncio.wait_for(
            newcomer.execute("clineBridge.startNewTask", "needs the editor"), ANSWERED_WITHIN
        )

        # The editor reads again: every request it sent is answered, in whole frames.
        stderr = asyncio.ensure_future(sidecar.read_log())
        answered = await _answers(sidecar, FLOOD)
        shutdown = await sidecar.request("shutdown")
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
        returncode = await asyncio.wait_for(sidecar.process.wait(), TIMEOUT)
        log = await stderr
        await before.close()
        await newcomer.close()

    assert status["result"]["host"] == "editor"
    assert "result" in welcome
    assert forwarded["error"]["code"] == -32002
    assert "has not read the sidecar's output" in forwarded["error"]["message"]
    assert "clineBridge/startNewTask was not sent" in forwarded["error"]["message"]
    assert answered == set(range(1, FLOOD + 1))
    assert shutdown["result"] is None
    assert returncode == 0
    assert "the editor is not reading" in log
    assert "the editor reads again" in log


async def _discovery_record(sidecar: RawSidecar) -> dict[str, Any]:
    status = (await sidecar.execute("clineBridge.status"))["result"]
    return _read_json(Path(status["control"]["discoveryFile"]))


def _read_json(path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(path.read_text())
    return record


async def _flood(sidecar: RawSidecar) -> None:
    """Requests whose answers and log lines only go to the editor: statuses, and commands with
    bad arguments (each answered -32602 and logged)."""
    for number in range(1, FLOOD + 1):
        command = "clineBridge.status" if number % 2 else "clineBridge.startNewTask"
        arguments = [] if number % 2 else [1, 2, 3]
        sidecar.writer.write(
            frame(
                {
                    "jsonrpc": "2.0",
                    "id": number,
                    "method": "workspace/executeCommand",
                    "params": {"command": command, "arguments": arguments},
                }
            )
        )
    await asyncio.wait_for(sidecar.writer.drain(), TIMEOUT)


async def _answers(sidecar: RawSidecar, count: int) -> set[int]:
    answered: set[int] = set()
    while len(answered) < count:
        message = await sidecar.read()
        if "id" in message and "method" not in message:
            answered.add(message["id"])
    return answered
