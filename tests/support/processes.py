"""Processes as Linux's ``/proc`` shows them, for tests that must prove nothing outlived them.

The editor harnesses (Neovim, code-server), the Cline CLI leak guard and the headless task test
all ask the same few questions: which processes exist, whose child each is, which group it is in,
whether it still runs, and what it runs. One reader keeps the parsing of ``/proc/<pid>/stat``
(whose command-name field may itself hold spaces and parentheses) in one place. Every function
answers "nothing" (None, False, empty) for a process that is gone or not readable, because
processes come and go while a scan runs. It imports no pytest, so benchmarks can use it too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_KILL_WAIT = 5.0
"""Seconds ``ProcessWatch.kill_survivors`` waits for the killed processes to be gone."""
_POLL = 0.05


@dataclass(frozen=True)
class ProcessStat:
    """The fields of ``/proc/<pid>/stat`` the tests need."""

    pid: int
    ppid: int
    pgrp: int
    """The process group: a child that made a session (a terminal's shell) leads its own."""
    state: str
    """One letter: ``R``, ``S``, ``D``, …; ``Z`` (zombie) and ``X`` (dead) have exited."""
    started: int
    """Start time in clock ticks since boot: with the pid, it names one process for good."""

    @property
    def running(self) -> bool:
        """False for a zombie: it has exited, and only waits for its parent to reap it."""
        return self.state not in ("Z", "X")


def _read(pid: int, name: str) -> bytes | None:
    try:
        return (PROC / str(pid) / name).read_bytes()
    except OSError:
        return None


def _link(pid: int, name: str) -> str | None:
    try:
        return os.readlink(PROC / str(pid) / name)
    except OSError:  # gone, or another user's
        return None


def stat(pid: int) -> ProcessStat | None:
    """``pid``'s stat, or None if there is no such process (any more)."""
    raw = _read(pid, "stat")
    if raw is None:
        return None
    # The command name, in parentheses, may hold anything: the fields start after its last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return ProcessStat(pid, int(fields[1]), int(fields[2]), fields[0].decode(), int(fields[19]))
    except (IndexError, ValueError):
        return None


def all_pids() -> list[int]:
    """Every pid in ``/proc`` now; some may be gone by the time they are read."""
    return [int(entry) for entry in os.listdir(PROC) if entry.isdigit()]


def all_processes() -> list[ProcessStat]:
    """The stat of every process that still exists when it is read (zombies included)."""
    return [found for pid in all_pids() if (found := stat(pid)) is not None]


def alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` still runs: a zombie has exited already, so it counts as gone.

    With ``started`` (see ``ProcessStat.started``) it must also be the very process that started
    then, not a newcomer that reused the pid."""
    found = stat(pid)
    return found is not None and found.running and (started is None or found.started == started)


def descendants(root: int) -> list[int]:
    """The pids of ``root``'s children, their children, and so on, from one scan of ``/proc``.

    By parent pid, not by group or session, so a child that made its own session is found too."""
    children: dict[int, list[int]] = {}
    for found in all_processes():
        children.setdefault(found.ppid, []).append(found.pid)
    below, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        below += kids
        todo += kids
    return below


def argv(pid: int) -> tuple[str, ...]:
    """``pid``'s arguments; empty if it is gone, a zombie or a kernel thread."""
    raw = _read(pid, "cmdline")
    if not raw:
        return ()
    return tuple(arg.decode(errors="replace") for arg in raw.rstrip(b"\0").split(b"\0"))


def cmdline(pid: int) -> str:
    """``pid``'s arguments joined by spaces, for matching and for messages; "" if gone."""
    raw = _read(pid, "cmdline")
    return "" if raw is None else raw.replace(b"\0", b" ").decode(errors="replace").strip()


def cwd(pid: int) -> str | None:
    """``pid``'s working directory, or None if it is gone or not ours to read."""
    return _link(pid, "cwd")


def exe(pid: int) -> str | None:
    """The path of the program ``pid`` runs (still as it was, if since deleted), or None."""
    found = _link(pid, "exe")
    return None if found is None else found.removesuffix(" (deleted)")


@dataclass
class ProcessWatch:
    """Every process seen under an editor while it ran, by (pid, start time), with its command:
    what must not outlive it."""

    seen: dict[tuple[int, int], str] = field(default_factory=dict)

    def look(self, root: int) -> None:
        """Note the descendants of ``root`` (a child that made its own session included)."""
        for pid in descendants(root):
            if (found := stat(pid)) is not None:
                self._note(found)

    def look_group(self, pgrp: int) -> None:
        """Note the members of the group whose leader, ``pgrp``, has exited and been reaped.

        A process whose pid is ``pgrp`` is a newcomer that reused the number, not ours."""
        for found in all_processes():
            if found.pgrp == pgrp and found.pid != pgrp:
                self._note(found)

    def _note(self, found: ProcessStat) -> None:
        if (found.pid, found.started) not in self.seen:
            self.seen[(found.pid, found.started)] = cmdline(found.pid)

    def survivors(self) -> dict[tuple[int, int], str]:
        return {key: command for key, command in self.seen.items() if alive(*key)}

    def kill_survivors(self) -> dict[tuple[int, int], str]:
        """SIGKILL whatever is left (it would otherwise outlive the test); return what was."""
        left = self.survivors()
        for pid, _ in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + _KILL_WAIT
        while self.survivors() and time.monotonic() < deadline:
            time.sleep(_POLL)
        return left

    def wait_for(self, proc: subprocess.Popen[bytes], timeout: float) -> int | None:
        """Wait for ``proc`` (an editor) to exit, noting its descendants as they come; its exit
        status, or None if it outlived ``timeout``."""
        deadline = time.monotonic() + timeout
        while (returncode := proc.poll()) is None:
            self.look(proc.pid)
            if time.monotonic() > deadline:
                return None
            time.sleep(_POLL)
        return returncode


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc``, which leads its own process group and is still running: SIGTERM to the
    group, then SIGKILL. What it leaves behind is a ``ProcessWatch``'s to kill, by pid and start
    time."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_KILL_WAIT)
