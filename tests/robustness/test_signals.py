"""A sidecar ended by a signal (an editor's SIGTERM, a closed terminal's SIGHUP) leaves nothing
behind: no discovery file or socket that scripts would find, no Cline CLI still running. It
ends as the signal says, so the editor sees the status it expects."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.fakes import acp_agent
from tests.robustness.canary import CANARY_KEY
from tests.support.environment import without_cline_settings
from tests.support.raw_peer import raw_sidecar

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
GONE_TIMEOUT = 10.0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_signal_removes_the_discovery_file_and_ends_the_agent(
    tmp_path: Path, signum: int
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = without_cline_settings(XDG_RUNTIME_DIR=str(runtime), CLINE_API_KEY=CANARY_KEY)
    async with raw_sidecar(env=env) as sidecar:
        await sidecar.initialize({"acp": {"command": acp_agent.command("normal")}})
        await sidecar.execute("clineBridge.startNewTask", "hello")
        status = (await sidecar.execute("clineBridge.status"))["result"]
        discovery = Path(status["control"]["discoveryFile"])
        agent = status["acp"]["agentPid"]
        assert left_in(runtime) == [discovery.name, discovery.with_suffix(".sock").name]
        assert isinstance(agent, int)

        sidecar.process.send_signal(signum)
        returncode = await asyncio.wait_for(sidecar.process.wait(), GONE_TIMEOUT)

    assert returncode == -signum, "the sidecar ends as the signal says"
    assert left_in(runtime) == []
    deadline = time.monotonic() + GONE_TIMEOUT
    while not acp_agent.process_gone(agent):
        assert time.monotonic() < deadline, f"the Cline CLI (pid {agent}) outlived the sidecar"
        await asyncio.sleep(0.05)


def left_in(runtime: Path) -> list[str]:
    """The files in the bridges' runtime folder, sorted."""
    return sorted(path.name for path in (runtime / "cline-bridge").iterdir())
