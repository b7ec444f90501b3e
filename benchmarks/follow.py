"""`cline-bridge task --headless --follow` as a user starts it: this tree against the code of
`BASELINE_REVISION` (the last commit before the terminal view), in one run, on one machine.

The baseline tree is `git archive BASELINE_REVISION server`, extracted into the part's private
temporary folder and compiled (`compileall`, as installing does: the environment may set
PYTHONDONTWRITEBYTECODE, so the bytecode must exist before the first start); it runs with
`PYTHONPATH=<that folder>/server`, which its headless sidecar inherits, so both processes run the
baseline's code. The other column is the installed package (this repository's `server/`,
compiled the same way). Before anything is timed, each side must import its own tree
(`cline_bridge.__file__` under that side's environment): otherwise the part fails.

Each side has its own isolated Cline home (`tests/support/cline_env.py`) and its own fake model
server (`tests/fakes/cline_api.py`, answering an unscripted request with a 401 at once), scripted
with one short text turn before every run. A run is
`python -m cline_bridge task TEXT --headless --follow` in the home's workspace, with stdin
/dev/null, stdout a pipe (read as bytes), `CLINE_BRIDGE_ACP_COMMAND` naming the home's Cline
CLI; it starts its own sidecar, which starts the agent, which asks the model. Measured:

- **first line**: spawn -> the first complete line on stdout, which must start with
  "Task sent to Cline". Target: median ratio <= 1.10 (the terminal view's acceptance point).
- **whole task**: spawn -> exit, with status 0 and the model's answer on stdout. No target.

Runs alternate between the sides, the order flipping each round, after warm-ups. Every wait is
bounded by the per-run timeout. Every process a run starts is ended on every path: the CLI leads
a process group of its own (killed, with its descendants by pid, if it outlives the timeout),
any process still working in the part's folder after a run is killed by pid (and fails the part
after a clean run), `cline_leak_guard` checks for Cline processes at the end, and the folder is
removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import repo
from measures import Stats
from table import Row, render, row_json

# tests/ is not an installed package: the isolated Cline home, the fake model server and the
# /proc reader live there, shared with the tests (none of them imports pytest).
# isort: split
from tests.fakes.cline_api import FakeClineAPI, text_turn
from tests.support import processes
from tests.support.cline_env import (
    ClineHome,
    ToolsMissing,
    cline_leak_guard,
    make_cline_home,
    require_cline_binary,
)

__all__ = [
    "BASELINE_REVISION",
    "FollowFailed",
    "FollowPlan",
    "FollowResults",
    "ToolsMissing",
    "require_cline_binary",
    "run",
]

BASELINE_REVISION = "2765c81"
"""The last commit before the terminal view of issue 13: "today's" start-up, which that work must
stay within 1.1x of. Bump it deliberately, when a new acceptance point names another revision."""
BASELINE_LABEL = BASELINE_REVISION
CURRENT_LABEL = "this tree"
TASK_TEXT = "say hello"
ANSWER = "Hello from the fake model."
FIRST_LINE = b"Task sent to Cline"
FIRST_LINE_TARGET = 1.10
IMPORT_CHECK = "import cline_bridge, sys; sys.stdout.write(cline_bridge.__file__)"
STRAY_GRACE = 3.0
"""Seconds a process still working in the part's folder after a clean run gets to exit."""
POLL = 0.05
KILL_WAIT = 5.0
"""Seconds for a killed CLI to be reaped."""
TAIL = 600
MS = 1e3
WIDTH = 26

T = TypeVar("T")


class FollowFailed(Exception):
    """A side did not do what the benchmark needs (a wrong tree, output or status, a timeout)."""


@dataclass(frozen=True)
class FollowPlan:
    """How many samples to take: `runs` timed rounds after `warmups`."""

    runs: int
    warmups: int


@dataclass(frozen=True)
class Tree:
    """One column: the package folder it must run, its Cline home, fake model and environment."""

    label: str
    package: Path
    home: ClineHome
    fake: FakeClineAPI
    env: dict[str, str]

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "cline_bridge", "task", TASK_TEXT, "--headless", "--follow"]


@dataclass(frozen=True)
class Outcome:
    """What one run printed and how it ended; times in seconds from the spawn."""

    first_line: bytes
    stdout: bytes
    stderr: bytes
    returncode: int | None
    first_line_s: float
    whole_s: float

    def check(self, tree: Tree) -> None:
        """A run that did not print what a user sees, or failed, fails the part."""
        text = self.stdout.decode(errors="replace")
        problem = None
        if not self.first_line.startswith(FIRST_LINE):
            problem = f"its first line is {self.first_line[:200]!r}, not {FIRST_LINE!r}..."
        elif self.returncode != 0:
            problem = f"it exited with status {self.returncode}"
        elif ANSWER not in text:
            problem = f"its output lacks the model's answer {ANSWER!r}"
        if problem is not None:
            raise FollowFailed(
                f"{tree.label}: {problem}\nstdout: {text[-TAIL:]!r}\n"
                f"stderr: {self.stderr.decode(errors='replace')[-TAIL:]!r}"
            )


# -- the trees -------------------------------------------------------------------------------------


def extract_baseline(dest: Path, timeout: float) -> Path:
    """`git archive BASELINE_REVISION server` (read-only) extracted into `dest`; the package."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo.ROOT), "archive", "--format=tar", BASELINE_REVISION, "server"],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if archive.returncode != 0:
        why = archive.stderr.decode(errors="replace").strip()
        raise FollowFailed(f"git archive {BASELINE_REVISION} server failed: {why}")
    unpacked = subprocess.run(
        ["tar", "-x", "-C", str(dest)],
        input=archive.stdout,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    package = dest / "server" / "cline_bridge"
    if unpacked.returncode != 0 or not (package / "__main__.py").is_file():
        why = unpacked.stderr.decode(errors="replace").strip() or "no cline_bridge/__main__.py"
        raise FollowFailed(f"cannot unpack {BASELINE_REVISION}'s server/: {why}")
    return package


def installed_package() -> Path:
    """The folder of the `cline_bridge` this interpreter imports (the editable install)."""
    folders = repo.package_folders()
    if not folders:
        raise FollowFailed("cline_bridge is not installed in this interpreter (make install)")
    return folders[0]


def compile_tree(package: Path) -> None:
    """Write the package's bytecode (`repo.compile_package`), as run.py does for this tree."""
    if not repo.compile_package(package):
        raise FollowFailed(f"cannot compile {package}")


def make_tree(
    label: str, package: Path, home: ClineHome, fake: FakeClineAPI, python_path: Path | None
) -> Tree:
    env = home.spawn_env() | {"CLINE_BRIDGE_ACP_COMMAND": shlex.join(home.command)}
    if python_path is not None:  # first, so that it wins over the editable install
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(python_path), env.get("PYTHONPATH", "")) if part
        )
    return Tree(label, package, home, fake, env)


def check_imports(trees: Sequence[Tree], timeout: float) -> None:
    """Each side's Python, in its workspace and environment, must import its own tree."""
    for tree in trees:
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_CHECK],
            cwd=tree.home.workspace,
            env=tree.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        expected = (tree.package / "__init__.py").resolve()
        found = done.stdout.strip()
        if done.returncode != 0 or not found or Path(found).resolve() != expected:
            raise FollowFailed(
                f"{tree.label}: imports cline_bridge from {found or '(nothing)'!r}, "
                f"not {str(expected)!r}: {done.stderr[-TAIL:]}"
            )


# -- one run ---------------------------------------------------------------------------------------


async def bounded(awaitable: Awaitable[T], deadline: float, what: str) -> T:
    """`awaitable`'s result, or FollowFailed once the run's deadline has passed."""
    try:
        return await asyncio.wait_for(awaitable, max(0.0, deadline - time.perf_counter()))
    except asyncio.TimeoutError:
        raise FollowFailed(f"{what}: not within the run's timeout") from None


async def drain(stream: asyncio.StreamReader | None, into: bytearray) -> None:
    """Read `stream` to its end into `into`, so that what was read survives a cancellation."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        into += chunk


async def end_process(process: asyncio.subprocess.Process) -> None:
    """Kill a CLI still running: its group, then every descendant noted before (the headless
    sidecar and its agent run in a group of their own), by pid."""
    if process.returncode is not None:
        return
    watch = processes.ProcessWatch()
    watch.look(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), KILL_WAIT)
    watch.kill_survivors()


async def spawn_and_time(tree: Tree, timeout: float) -> Outcome:
    """One `task --headless --follow`, timed from the spawn; its processes are gone after it."""
    errors = bytearray()
    began = time.perf_counter()
    deadline = began + timeout
    process = await asyncio.create_subprocess_exec(
        *tree.argv,
        cwd=tree.home.workspace,
        env=tree.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    stderr_task = asyncio.ensure_future(drain(process.stderr, errors))
    try:
        assert process.stdout is not None
        try:
            first_line = await bounded(process.stdout.readline(), deadline, "the first line")
            first_line_s = time.perf_counter() - began
            rest = await bounded(process.stdout.read(), deadline, "the end of stdout")
            returncode = await bounded(process.wait(), deadline, "the exit")
            whole_s = time.perf_counter() - began
        except FollowFailed as exc:
            raise FollowFailed(
                f"{tree.label}: {exc}\nstderr: {errors.decode(errors='replace')[-TAIL:]!r}"
            ) from None
    finally:
        await end_process(process)
        # The agent may hold the CLI's stderr a moment after the CLI exited.
        with contextlib.suppress(asyncio.TimeoutError, FollowFailed):
            await bounded(asyncio.shield(stderr_task), deadline, "the end of stderr")
        stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stderr_task
    return Outcome(first_line, first_line + rest, bytes(errors), returncode, first_line_s, whole_s)


def strays(root: Path) -> list[int]:
    """Processes other than this one still working in `root` (the CLI, its sidecar and its agent
    all run in a workspace under it)."""
    prefix = str(root.resolve())
    found = []
    for pid in processes.all_pids():
        where = processes.cwd(pid)
        if pid == os.getpid() or where is None:
            continue
        if (where == prefix or where.startswith(prefix + os.sep)) and processes.alive(pid):
            found.append(pid)
    return found


async def sweep(root: Path, grace: float) -> list[str]:
    """Kill by pid what still works in `root` after `grace` seconds; what it was."""
    for _ in range(math.ceil(grace / POLL)):
        if not strays(root):
            break
        await asyncio.sleep(POLL)
    left = strays(root)
    killed = []
    for pid in left:
        command = processes.cmdline(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(f"pid {pid}: {command}")
    return killed


async def timed_task(tree: Tree, root: Path, timeout: float) -> Outcome:
    """Script the model, run the task, check what it printed and that nothing outlived it."""
    tree.fake.script(text_turn(ANSWER))
    clean = False
    try:
        outcome = await spawn_and_time(tree, timeout)
        clean = True
    finally:
        killed = await sweep(root, STRAY_GRACE if clean else 0.0)
    if killed:
        raise FollowFailed(f"{tree.label}: left running after the task (killed): {killed}")
    outcome.check(tree)
    if tree.fake.problems or tree.fake.pending:
        raise FollowFailed(
            f"{tree.label}: the fake model server saw {tree.fake.problems or 'no problem'}, "
            f"{tree.fake.pending} scripted replies left"
        )
    return outcome


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class FollowSamples:
    first_line_s: dict[str, list[float]] = field(
        default_factory=lambda: {BASELINE_LABEL: [], CURRENT_LABEL: []}
    )
    whole_s: dict[str, list[float]] = field(
        default_factory=lambda: {BASELINE_LABEL: [], CURRENT_LABEL: []}
    )
    seconds: float = 0.0


async def measure(
    trees: Sequence[Tree], root: Path, plan: FollowPlan, timeout: float
) -> FollowSamples:
    """`warmups + runs` rounds, every side once a round, the order flipping each round."""
    samples = FollowSamples()
    order = list(trees)
    for round_no in range(plan.warmups + plan.runs):
        for tree in order:
            outcome = await timed_task(tree, root, timeout)
            if round_no >= plan.warmups:
                samples.first_line_s[tree.label].append(outcome.first_line_s)
                samples.whole_s[tree.label].append(outcome.whole_s)
        order.reverse()
    return samples


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary folder, removed on every path."""
    root = Path(tempfile.mkdtemp(prefix="cline-bridge-bench-follow-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(plan: FollowPlan, timeout: float) -> FollowResults:
    """Measure (its own event loop); raise ToolsMissing without the CLI, FollowFailed on a wrong
    tree or a bad run. `timeout` bounds every wait of a run, and each step of the set-up.

    A Cline process still running under the part's folder at the end is killed by pid and fails
    the part, unless the part had failed already.
    """
    binary = require_cline_binary()
    began = time.perf_counter()
    with workspace() as root:
        try:
            with cline_leak_guard(binary, [root]), contextlib.ExitStack() as stack:
                baseline = extract_baseline(root / "tree", timeout)
                current = installed_package()
                for package in (baseline, current):
                    compile_tree(package)
                trees: list[Tree] = []
                for label, package, python_path in (
                    (BASELINE_LABEL, baseline, baseline.parent),
                    (CURRENT_LABEL, current, None),
                ):
                    fake = stack.enter_context(FakeClineAPI(unscripted_status=401))
                    home = make_cline_home(root / f"side-{len(trees)}", fake.url, binary)
                    trees.append(make_tree(label, package, home, fake, python_path))
                check_imports(trees, timeout)
                samples = asyncio.run(measure(trees, root, plan, timeout))
        except AssertionError as exc:  # the leak guard's
            raise FollowFailed(str(exc)) from None
        except subprocess.TimeoutExpired as exc:
            raise FollowFailed(f"set-up: {exc}") from None
    samples.seconds = time.perf_counter() - began
    return FollowResults(plan, samples)


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowResults:
    plan: FollowPlan
    samples: FollowSamples

    def stats(self, series: dict[str, list[float]]) -> tuple[Stats, Stats]:
        return Stats.of(series[BASELINE_LABEL]), Stats.of(series[CURRENT_LABEL])

    def rows(self) -> list[Row]:
        first_b, first_c = self.stats(self.samples.first_line_s)
        whole_b, whole_c = self.stats(self.samples.whole_s)
        return [
            Row(
                "first line, median (ms)",
                first_b.median * MS,
                first_c.median * MS,
                FIRST_LINE_TARGET,
            ),
            Row("first line, p90 (ms)", first_b.p90 * MS, first_c.p90 * MS),
            Row("whole task, median (ms)", whole_b.median * MS, whole_c.median * MS),
            Row("whole task, p90 (ms)", whole_b.p90 * MS, whole_c.p90 * MS),
        ]

    def lines(self) -> list[str]:
        plan = self.plan
        first_b, first_c = self.stats(self.samples.first_line_s)
        whole_b, whole_c = self.stats(self.samples.whole_s)
        return [
            "task --headless --follow: `python -m cline_bridge task TEXT --headless --follow`,",
            "each with its own sidecar, Cline CLI and fake model;",
            f"{BASELINE_REVISION} (git archive; the last commit before the terminal view) "
            "against this tree,",
            f"{plan.runs} runs each, interleaved, after {plan.warmups} warm-up(s)",
            'first line: spawn -> first stdout line ("Task sent to Cline ..."); '
            "whole task: spawn -> exit",
            "",
            *render(self.rows(), BASELINE_LABEL, CURRENT_LABEL, width=WIDTH),
            f"this tree against {BASELINE_REVISION}, medians: first line "
            f"{(first_c.median - first_b.median) * MS:+.1f} ms, whole task "
            f"{(whole_c.median - whole_b.median) * MS:+.1f} ms",
            f"this part took {self.samples.seconds:.1f} s",
        ]

    def to_json(self) -> dict[str, Any]:
        samples = self.samples
        return {
            "plan": asdict(self.plan),
            "baseline_revision": BASELINE_REVISION,
            "rows": [row_json(row) for row in self.rows()],
            "first_line_s": samples.first_line_s,
            "whole_s": samples.whole_s,
            "seconds": samples.seconds,
        }
