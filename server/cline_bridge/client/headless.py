"""A headless sidecar: ``cline-bridge serve`` as a child of the script, talking over its stdio.

For a terminal without an editor (``Bridge.headless``): the child has no control endpoint, runs
its tasks in the Cline CLI, and ends with the script's bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from cline_bridge.processes import kill_group, own_group
from cline_bridge.wire.errors import BridgeConnectionError

if TYPE_CHECKING:
    from pathlib import Path

HEADLESS_TIMEOUT = 30.0
"""Seconds for a headless sidecar to start and answer ``initialize`` (Python and pygls load
first), and at the end to stop with its Cline CLI before it is killed."""
KILLED_EXIT_TIMEOUT = 10.0
"""Seconds for a killed sidecar to be reaped."""


def headless_command() -> list[str]:
    """The sidecar ``Bridge.headless`` starts: this interpreter's ``cline_bridge``, logging only
    warnings (its stderr is the terminal's)."""
    return [sys.executable, "-m", "cline_bridge", "serve", "--log-level", "warning"]


async def start_sidecar(argv: list[str], folder: Path) -> asyncio.subprocess.Process:
    """Start ``argv`` in ``folder`` with pipes for stdin and stdout, in a group of its own: a
    Ctrl-C meant for the script must not kill the sidecar before it could stop its Cline CLI."""
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=folder,
            **own_group(),
        )
    except OSError as error:
        reason = error.strerror or error
        raise BridgeConnectionError(f"cannot start {argv[0]}: {reason}") from None


async def reap(process: asyncio.subprocess.Process, timeout: float) -> None:
    """Wait for a headless sidecar to exit (its stdin is closed by now); kill it, and whatever it
    started in its group, if it has not within ``timeout``. Never leaves a process behind."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), timeout)
        return
    kill_group(process.pid)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), KILLED_EXIT_TIMEOUT)
