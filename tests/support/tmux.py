"""A real terminal for tests: one command in a tmux session, read as a person would see it.

``tmux_terminal(argv, cwd=..., env=..., folder=...)`` starts a tmux server of its own (a private
socket, no configuration file, no status line) whose only pane runs ``argv`` in ``cwd`` with
exactly ``env`` (plus ``TERM``) on a ``width`` x ``height`` screen. The test then reads the screen
(``capture``), types (``send``), waits for what should appear (``wait_for``) and reads the exit
status (``exit_status``): the pane stays after its command ends (``remain-on-exit``), so its last
screen can still be read. On leaving, even after a failure, the server is killed, and so is every
process the pane started, by pid (see ``processes.ProcessWatch``). No pytest here: a missing tmux
raises ``TmuxMissing``, which says how to install it, for the caller to fail with.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from tests.support import processes

POLL = 0.05
"""Seconds between two looks at the screen while waiting."""
WAIT_TIMEOUT = 15.0
"""Seconds ``wait_for`` waits by default."""
TMUX_TIMEOUT = 10.0
"""Seconds one tmux client command may take."""
EXIT_GRACE = 3.0
"""Seconds the pane's processes get to exit by themselves once the server is gone."""
DEFAULT_TERM = "tmux-256color"
MARK = "CLINE_BRIDGE_TEST_TERMINAL"
"""A variable set in the pane's environment: every process started under it inherits it (unless
it clears its environment), so ``close`` finds even a daemon the pane's command detached."""

Condition = str | re.Pattern[str] | Callable[[str], bool]
"""What ``wait_for`` waits for: text on the screen, a pattern found in it, or a predicate."""


class TmuxMissing(RuntimeError):
    """tmux is not installed."""


class TmuxError(RuntimeError):
    """A tmux command failed."""


def require_tmux() -> str:
    """The tmux program, or TmuxMissing saying how to install it."""
    found = shutil.which("tmux")
    if found is None:
        raise TmuxMissing(
            "tmux is not installed: run `make e2e-tools` (scripts/install-e2e-tools.sh installs it)"
        )
    return found


class TmuxTerminal:
    """One tmux session, on a server of its own, whose single pane runs one command."""

    def __init__(self, tmux: str, server: str, folder: Path) -> None:
        self._tmux = tmux
        self._server = server
        self._folder = folder
        self._target = "main"
        self._pane_pid: int | None = None
        self._pane_started: int | None = None
        self._socket: Path | None = None
        self._watch = processes.ProcessWatch()
        self._closed = False

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        folder: Path,
        width: int = 100,
        height: int = 30,
        term: str = DEFAULT_TERM,
    ) -> TmuxTerminal:
        """Run ``argv`` in ``cwd`` with exactly ``env`` (``TERM`` set to ``term``; ``COLUMNS``
        and ``LINES`` dropped, so the program measures the screen) on a new screen. ``folder``
        (which must exist) keeps the script that starts it."""
        terminal = cls(require_tmux(), f"cline-bridge-test-{uuid.uuid4().hex[:12]}", folder)
        variables = {
            name: value for name, value in env.items() if name not in ("COLUMNS", "LINES", "TMUX")
        }
        variables["TERM"] = term
        variables[MARK] = terminal._server  # inherited: finds what escaped the pane's session
        # A script rather than a long command line: tmux bounds the size of one command. It
        # writes the command's exit status to a file, which ``exit_status`` reads: tmux 3.3
        # sometimes misses the SIGCHLD of a pane's process and never learns its status.
        script = terminal._file(".sh")
        status = terminal._file(".status")
        pairs = [f"{name}={value}" for name, value in sorted(variables.items())]
        script.write_text(
            "#!/bin/sh\n"
            f"cd {shlex.quote(str(cwd))} || exit 125\n"
            # Caught, not ignored: the command gets Ctrl-C as usual, and this shell outlives it
            # to write its status.
            "trap : INT QUIT\n"
            f"{shlex.join(['/usr/bin/env', '-i', *pairs, *argv])}\n"
            "status=$?\n"
            f'echo "$status" > {shlex.quote(f"{status}.new")}\n'
            f"mv {shlex.quote(f'{status}.new')} {shlex.quote(str(status))}\n"
            'exit "$status"\n'
        )
        try:
            terminal._tmux_command(
                "set-option", "-g", "status", "off", ";",
                "set-option", "-g", "exit-empty", "off", ";",
                "set-option", "-wg", "remain-on-exit", "on", ";",
                "new-session", "-d", "-s", terminal._target, "-x", str(width), "-y", str(height),
                "-c", str(cwd), shlex.join(["/bin/sh", str(script)]),
            )  # fmt: skip
            server, socket, pane = terminal._display("#{pid} #{socket_path} #{pane_pid}").split(" ")
            terminal._socket = Path(socket)
            terminal._watch.look_group(int(server))  # the server leads a group of its own
            terminal._note(int(server))
            terminal._pane_pid = int(pane)
            found = processes.stat(terminal._pane_pid)
            terminal._pane_started = found.started if found is not None else None
            terminal._look()
        except BaseException:
            terminal.close()
            raise
        return terminal

    # -- reading and typing -------------------------------------------------------------------

    def capture(self, escapes: bool = False, *, history: bool = False) -> str:
        """The screen as text, its wrapped lines joined; with ``escapes``, with the SGR
        sequences that draw its colours and attributes, as tmux renders them; with ``history``,
        preceded by the lines scrolled off its top."""
        self._look()
        flags = ["-p", "-J"] + (["-e"] if escapes else []) + (["-S", "-"] if history else [])
        return self._tmux_command("capture-pane", *flags, "-t", self._target)

    def send(self, keys: str, *, enter: bool = True) -> None:
        """Type ``keys`` as literal text, then Enter unless ``enter`` is False."""
        if keys:
            self._tmux_command("send-keys", "-t", self._target, "-l", keys)
        if enter:
            self._tmux_command("send-keys", "-t", self._target, "Enter")

    def press(self, *keys: str) -> None:
        """Press keys by their tmux names: ``C-c``, ``Escape``, ``Enter``, ``Space``, ..."""
        self._tmux_command("send-keys", "-t", self._target, *keys)

    def wait_for(
        self, condition: Condition, timeout: float = WAIT_TIMEOUT, *, escapes: bool = False
    ) -> str:
        """Wait until the screen shows ``condition``; return that screen. AssertionError with
        the last screen after ``timeout`` seconds."""
        if isinstance(condition, str):
            text = condition
            test: Callable[[str], bool] = lambda screen: text in screen  # noqa: E731
            wanted = repr(text)
        elif isinstance(condition, re.Pattern):
            pattern = condition
            test = lambda screen: pattern.search(screen) is not None  # noqa: E731
            wanted = f"/{pattern.pattern}/"
        else:
            test = condition
            wanted = getattr(condition, "__name__", repr(condition))
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture(escapes)
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the screen did not show {wanted} within {timeout:g}s; it shows:\n"
                    + framed(screen)
                )
            time.sleep(POLL)

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended (a signal counts as 128 + its number),
        else None."""
        self._look()
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(self._file(".status").read_text())
        # No status written: the script itself was killed, or has not finished writing it.
        dead, signal = self._display("#{pane_dead} #{pane_dead_signal}").split(" ")
        if dead == "1" and signal:
            return 128 + int(signal)
        return None

    def wait_exit(self, timeout: float = WAIT_TIMEOUT) -> int:
        """Wait for the command to end; its exit status. AssertionError with the screen after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the command did not end within {timeout:g}s; the screen shows:\n"
                    + framed(self.capture())
                )
            time.sleep(POLL)
        return status

    # -- the end ------------------------------------------------------------------------------

    def close(self) -> dict[tuple[int, int], str]:
        """Kill the tmux server, then every process the pane started that outlived it (by pid
        and start time); return those, to report. Safe to call twice."""
        if self._closed:
            return {}
        self._closed = True
        with contextlib.suppress(TmuxError, subprocess.TimeoutExpired):
            self._look()
        with contextlib.suppress(TmuxError, subprocess.TimeoutExpired):
            self._tmux_command("kill-server")
        if self._pane_pid is not None:
            self._watch.look_group(self._pane_pid)
        for pid in marked(f"{MARK}={self._server}"):
            self._note(pid)
        deadline = time.monotonic() + EXIT_GRACE
        while self._watch.survivors() and time.monotonic() < deadline:
            time.sleep(POLL)
        left = self._watch.kill_survivors()
        files = [self._file(suffix) for suffix in (".sh", ".status", ".status.new")]
        for path in [*files, *([self._socket] if self._socket is not None else [])]:
            with contextlib.suppress(OSError):
                path.unlink()
        return left

    def _file(self, suffix: str) -> Path:
        """A file of this terminal's in its folder."""
        return self._folder / f"{self._server}{suffix}"

    def _look(self) -> None:
        """Note the pane's processes now, while they can still be found as its descendants: once
        the pane's command has exited, its orphans belong to init."""
        pid = self._pane_pid
        if pid is None:
            return
        started = self._pane_started
        if started is not None and processes.alive(pid, started):  # not a newcomer on its pid
            self._note(pid)
            self._watch.look(pid)
        self._watch.look_group(pid)

    def _note(self, pid: int) -> None:
        """Note ``pid`` itself as a process that must not outlive the terminal."""
        found = processes.stat(pid)
        if found is not None and found.running:
            self._watch.seen.setdefault((pid, found.started), processes.cmdline(pid))

    def _display(self, format: str) -> str:
        return self._tmux_command("display-message", "-p", "-t", self._target, format).rstrip("\n")

    def _tmux_command(self, *args: str) -> str:
        env = {
            name: value for name, value in os.environ.items() if name not in ("TMUX", "TMUX_PANE")
        }
        command = [self._tmux, "-L", self._server, "-f", "/dev/null", *args]
        run = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=TMUX_TIMEOUT, check=False
        )
        if run.returncode != 0:
            raise TmuxError(
                f"{shlex.join(command)} failed ({run.returncode}): {run.stderr.strip()}"
            )
        return run.stdout


def marked(variable: str) -> list[int]:
    """The processes whose environment holds ``variable`` (``NAME=value``), of those this user
    may read."""
    wanted = variable.encode() + b"\0"
    found = []
    for pid in processes.all_pids():
        try:
            environment = (processes.PROC / str(pid) / "environ").read_bytes()
        except OSError:  # gone, or not ours
            continue
        if environment.startswith(wanted) or b"\0" + wanted in environment:
            found.append(pid)
    return found


def framed(screen: str) -> str:
    """A captured screen for a failure message: its lines between rules, trailing blanks cut."""
    lines = screen.rstrip("\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    rule = "-" * 40
    return "\n".join([rule, *(line.rstrip() for line in lines), rule])


@contextlib.contextmanager
def tmux_terminal(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    folder: Path,
    width: int = 100,
    height: int = 30,
    term: str = DEFAULT_TERM,
) -> Iterator[TmuxTerminal]:
    """``TmuxTerminal.start``, closed on leaving. Processes of the pane still running then are
    killed; if the command had ended and the body did not fail, they are leaks, and an
    AssertionError names them. (A command still running is the body's to complain of.)"""
    terminal = TmuxTerminal.start(
        argv, cwd=cwd, env=env, folder=folder, width=width, height=height, term=term
    )
    failed = True
    try:
        yield terminal
        failed = False
    finally:
        ended = False
        with contextlib.suppress(TmuxError, subprocess.TimeoutExpired):
            ended = terminal.exit_status() is not None
        left = terminal.close()
        if left and ended and not failed:
            names = "; ".join(f"pid {pid}: {command}" for (pid, _), command in left.items())
            raise AssertionError(f"the command ended, leaving these running (killed): {names}")
