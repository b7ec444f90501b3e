"""Child processes in a group of their own, and ending one together with what it started.

The script library's headless sidecar and the sidecar's Cline CLI both run as such children: a
Ctrl-C in the terminal then reaches only the parent, which ends its child in order (the sidecar
stops its agent first), and ending the child's group ends whatever the child started as well.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any


def own_group() -> dict[str, Any]:
    """Keyword arguments of ``subprocess.Popen`` (and ``asyncio.create_subprocess_exec``) that
    start the child in a group of its own: a new session on POSIX (its group id is its pid), a
    new process group on Windows."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_group(pid: int) -> None:
    """Kill the child ``pid``, started with ``own_group()``, and everything in its group.

    Does nothing when they are gone already. On Windows, which has no signal for a group, the
    child's process tree is ended instead.
    """
    if sys.platform == "win32":
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
