"""``cline-bridge`` run as a user runs it, from a test whose event loop must keep serving (the
editor double answers the sidecar on that loop): an asyncio subprocess, killed by pid if it
outlives its timeout."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.environment import without_cline_settings

CLI_TIMEOUT = 30.0


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def cline_bridge(*args: str, cwd: Path, timeout: float = CLI_TIMEOUT) -> Finished:
    """Run ``cline-bridge ARGS`` in ``cwd``, stdin closed, without inherited CLINE_* settings."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cline_bridge",
        *args,
        cwd=cwd,
        env=without_cline_settings(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())
