"""The sidecar's ACP host against driving `cline --acp` directly, in one run, on one machine.

Both columns run the real Cline CLI (the version `make e2e-tools` installs) in an isolated Cline
home of its own, against a fake model server of its own (`tests/fakes/cline_api.py`, answering an
unscripted request with a 401 at once): the same server code and the same scripted replies, one
instance a side, so that a stray request of one side cannot take the other's reply.

- **bridge**: `python -m cline_bridge serve` over stdio, driven by `lsp_client.py` as an editor
  without the Cline extension: `initialize` with the workspace as `rootUri` and
  `initializationOptions: {"acp": <the home's command and env>, "control": false}`, then
  `workspace/executeCommand clineBridge.startNewTask [text]`. The sidecar starts the agent on the
  first task and reports what it does as `clineBridge/taskEvent` notifications.
- **direct**: `tests/support/acp_driver.py`, a minimal raw ACP client: `session/new` and
  `session/prompt` on one agent it started itself.

Measured, after the first task of each side (the agent's cold start, reported on its own line) and
the warm-ups, rounds interleaved with the order flipping each round:

1. first event: from `startNewTask` to the first `message` event, against from `session/new` to
   the first `agent_message_chunk`; the model streams a two-piece answer.
2. one-tool task: the model asks to create a file, the approval is answered (bridge: on the
   `approval` event, `clineBridge.pressPrimaryButton`; direct: `allow_once` at once), then a final
   text turn; from the start to `turnEnd` (bridge) or the prompt's result (direct). The file must
   exist with its content after every run: a run without it fails the part.
3. RSS (`VmRSS` in `/proc/<pid>/status`) of the sidecar process alone: with no ACP host (an
   `acp.command` that does not exist) as the baseline, with the ACP host right after `initialize`,
   and after the tasks with its agent running; the agents' RSS for context.

Every process and folder this part creates is removed on every path: the clients end the sidecar
and the direct agent by pid, and `cline_leak_guard` kills any Cline process left under the part's
temporary folder (and fails the part, since the sidecar should have ended its agent itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import repo  # noqa: F401  (puts tests/ on sys.path)
from lsp_client import LspClient, LspError
from measures import Stats
from table import Row, render, row_json

# tests/ is not an installed package: the isolated Cline home, the raw ACP driver and the fake
# model server live there, shared with the ACP tests (none of them imports pytest).
# isort: split
from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.acp_driver import AcpDriver, AcpError, AgentExited, select
from tests.support.cline_env import (
    ClineHome,
    ToolsMissing,
    cline_leak_guard,
    make_cline_home,
    require_cline_binary,
)
from tests.support.environment import without_cline_settings

__all__ = ["AcpFailed", "AcpPlan", "AcpResults", "ToolsMissing", "require_cline_binary", "run"]

SIDECAR = (sys.executable, "-m", "cline_bridge", "serve")
EXECUTE = "workspace/executeCommand"
START = "clineBridge.startNewTask"
PRIMARY = "clineBridge.pressPrimaryButton"
STATUS = "clineBridge.status"
TASK_EVENT = "clineBridge/taskEvent"
MISSING_COMMAND = "cline-bridge-bench-no-such-cline"
"""An `acp.command` that resolves nowhere: the sidecar then runs with no host at all."""
FIRST_EVENT_TARGET = 1.5
TOOL_TASK_TARGET = 1.3
ANSWER = ("Hello", " from the fake model.")
TOOL_ANSWER = ("Created ", "the file.")
PACE = 0.02
"""Seconds between the events of the paced stream, about a real model's pace. The fake otherwise
sends a whole answer at once, which the agent streams in a few ms: then the sidecar's first
`message` event (text is held up to 50 ms to coalesce chunks) goes out with the turn's end."""
FILE_TEXT = "written by the benchmark\n"
MS = 1e3
MIB = 1024.0
WIDTH = 31

T = TypeVar("T")


class AcpFailed(Exception):
    """A side did not do what the benchmark needs (a missing file, an error, a timeout)."""


@dataclass(frozen=True)
class AcpPlan:
    """How many samples to take: `runs` timed rounds after `warmups`, per measure."""

    runs: int
    warmups: int


# -- the sidecar as an editor sees it ------------------------------------------------------------


class Bridge:
    """The sidecar with the ACP host, and the task events it sent, in arrival order."""

    def __init__(self, client: LspClient, home: ClineHome, fake: FakeClineAPI) -> None:
        self.client = client
        self.home = home
        self.fake = fake
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        client.notification_handlers[TASK_EVENT] = self._on_event

    @classmethod
    async def start(
        cls, home: ClineHome, fake: FakeClineAPI, timeout: float, *, acp: Any = None
    ) -> Bridge:
        """Spawn and initialize the sidecar; `acp` overrides the home's `acp` options."""
        client = await LspClient.spawn(SIDECAR, sidecar_env())
        bridge = cls(client, home, fake)
        options = {"acp": home.acp_options() if acp is None else acp, "control": False}
        try:
            await client.initialize(options, timeout, root_uri=home.workspace.as_uri())
        except LspError as exc:
            tail = client.stderr_tail()
            await client.close()
            raise AcpFailed(f"bridge: initialize failed: {exc}\n{tail}") from None
        return bridge

    @property
    def pid(self) -> int:
        assert self.client.proc is not None
        return self.client.proc.pid

    def _on_event(self, params: Any) -> None:
        if isinstance(params, dict):
            self.events.append(params)
            self._arrived.set()

    async def execute(self, command: str, arguments: list[Any], timeout: float) -> Any:
        try:
            return await self.client.request(
                EXECUTE, {"command": command, "arguments": arguments}, timeout
            )
        except LspError as exc:
            raise AcpFailed(f"bridge: {command} failed: {exc}\n{self.stderr_tail()}") from None

    async def wait_event(self, kind: str, after: int, timeout: float) -> dict[str, Any]:
        """The first event of `kind` from index `after` on; an error or another turn's end
        before it fails the run."""

        def found() -> dict[str, Any] | None:
            for event in self.events[after:]:
                if event.get("kind") == kind:
                    return event
                if event.get("kind") in ("error", "turnEnd"):
                    raise AcpFailed(f"bridge: {event!r} came before any {kind} event")
            return None

        async def arrival() -> dict[str, Any]:
            while (event := found()) is None:
                self._arrived.clear()
                await self._arrived.wait()
            return event

        try:
            return await asyncio.wait_for(arrival(), timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            kinds = [event.get("kind") for event in self.events[after:]]
            raise AcpFailed(
                f"bridge: no {kind} event within {timeout:g} s (saw {kinds})\n{self.stderr_tail()}"
            ) from None

    async def first_event(self, timeout: float, pace: float = 0.0) -> tuple[float, float]:
        """startNewTask → the first `message` event, in seconds; and → its reply. The model
        streams its answer with `pace` seconds between events."""
        self.fake.script(text_turn(*ANSWER, delay=pace))
        after = len(self.events)
        start = time.perf_counter()
        reply = asyncio.ensure_future(self.execute(START, ["Say hello"], timeout))
        replied: list[float] = []
        reply.add_done_callback(lambda _: replied.append(time.perf_counter() - start))
        try:
            await self.wait_event("message", after, timeout)
            elapsed = time.perf_counter() - start
            result = await reply
        finally:
            await cancelled(reply)
        end = await self.wait_event("turnEnd", after, timeout)
        self._check(result, end, after, "".join(ANSWER))
        return elapsed, replied[0]

    async def tool_task(self, name: str, timeout: float) -> float:
        """startNewTask → approval → pressPrimaryButton → turnEnd, in seconds."""
        target = self.home.workspace / name
        self.fake.script(write_file(target, FILE_TEXT), text_turn(*TOOL_ANSWER))
        after = len(self.events)
        start = time.perf_counter()
        reply = asyncio.ensure_future(self.execute(START, [f"Create {name}"], timeout))
        try:
            await self.wait_event("approval", after, timeout)
            approved = await self.execute(PRIMARY, [], timeout)
            end = await self.wait_event("turnEnd", after, timeout)
            elapsed = time.perf_counter() - start
            result = await reply
        finally:
            await cancelled(reply)
        if not (isinstance(approved, dict) and approved.get("action") == "approved"):
            raise AcpFailed(f"bridge: {PRIMARY} answered {approved!r}, not an approval")
        self._check(result, end, after, "".join(TOOL_ANSWER))
        check_file(target, "bridge")
        return elapsed

    def _check(self, result: Any, end: dict[str, Any], after: int, text: str) -> None:
        """The task was started, its turn ended normally, and its messages are the answer."""
        if not (isinstance(result, dict) and result.get("action") == "started"):
            raise AcpFailed(f"bridge: {START} answered {result!r}")
        if end.get("stopReason") != "end_turn":
            raise AcpFailed(f"bridge: the turn ended with {end!r}\n{self.stderr_tail()}")
        task_id = result.get("taskId")
        events = self.events[after:]
        said = "".join(e.get("text") or "" for e in events if e.get("kind") == "message")
        if said != text or any(e.get("taskId") != task_id for e in events):
            raise AcpFailed(f"bridge: the task's events are not its answer: {said!r}")
        check_fake(self.fake, "bridge")

    async def agent_pid(self, timeout: float) -> int | None:
        status = await self.execute(STATUS, [], timeout)
        acp = status.get("acp") if isinstance(status, dict) else None
        pid = acp.get("agentPid") if isinstance(acp, dict) else None
        return pid if isinstance(pid, int) else None

    def stderr_tail(self) -> str:
        return self.client.stderr_tail(1000)

    async def close(self) -> None:
        """`shutdown`, `exit`; the sidecar is killed by pid if it has not exited in 5 s."""
        await self.client.close()


def sidecar_env() -> dict[str, str]:
    """Our environment without any `CLINE_*` setting: the sidecar gets the home's from `acp.env`,
    as the direct agent gets it from `ClineHome.spawn_env`."""
    return without_cline_settings()


# -- cline --acp driven directly -----------------------------------------------------------------


class Direct:
    """One agent driven by the raw ACP driver; it allows every tool once."""

    def __init__(self, driver: AcpDriver, home: ClineHome, fake: FakeClineAPI) -> None:
        self.driver = driver
        self.home = home
        self.fake = fake

    @classmethod
    async def start(cls, home: ClineHome, fake: FakeClineAPI, timeout: float) -> Direct:
        driver = await AcpDriver.start(
            home.command,
            env=home.spawn_env(),
            cwd=home.workspace,
            on_permission=select("allow_once"),
            stderr_path=home.stderr_log,
        )
        direct = cls(driver, home, fake)
        try:
            await direct.call(driver.initialize(timeout=timeout), "initialize")
        except BaseException:
            await driver.close()
            raise
        return direct

    @property
    def pid(self) -> int:
        return self.driver.process.pid

    async def call(self, call: Awaitable[T], what: str) -> T:
        """`call`'s result; the driver's failures become AcpFailed with the agent's stderr."""
        try:
            return await call
        except (AcpError, AgentExited, AssertionError, asyncio.TimeoutError) as exc:
            raise AcpFailed(
                f"direct: {what} failed: {exc or 'timed out'}\n{self.driver.stderr_tail(10)}"
            ) from None

    async def first_event(self, timeout: float, pace: float = 0.0) -> float:
        """session/new → the first `agent_message_chunk` of that session, in seconds."""
        self.fake.script(text_turn(*ANSWER, delay=pace))
        after = len(self.driver.updates)
        start = time.perf_counter()
        session = await self.call(
            self.driver.new_session(self.home.workspace, timeout=timeout), "session/new"
        )
        prompt = asyncio.ensure_future(self.driver.prompt(session, "Say hello", timeout=timeout))
        try:
            await self.call(
                self.driver.wait_for(
                    lambda: self._chunks(session, after),
                    timeout=timeout,
                    what="an agent_message_chunk",
                ),
                "waiting for the first agent_message_chunk",
            )
            elapsed = time.perf_counter() - start
            stop = await self.call(prompt, "session/prompt")
        finally:
            await cancelled(prompt)
        self._check(stop, session, after, "".join(ANSWER))
        return elapsed

    async def tool_task(self, name: str, timeout: float) -> float:
        """session/new → session/prompt's result, the tool allowed once, in seconds."""
        target = self.home.workspace / name
        self.fake.script(write_file(target, FILE_TEXT), text_turn(*TOOL_ANSWER))
        after = len(self.driver.updates)
        start = time.perf_counter()
        session = await self.call(
            self.driver.new_session(self.home.workspace, timeout=timeout), "session/new"
        )
        stop = await self.call(
            self.driver.prompt(session, f"Create {name}", timeout=timeout), "session/prompt"
        )
        elapsed = time.perf_counter() - start
        self._check(stop, session, after, "".join(TOOL_ANSWER))
        check_file(target, "direct")
        return elapsed

    def _chunks(self, session: str, after: int) -> str:
        """The text of `session`'s `agent_message_chunk`s from index `after` on."""
        texts = []
        for params in self.driver.updates[after:]:
            update = params.get("update")
            if (
                params.get("sessionId") == session
                and isinstance(update, dict)
                and update.get("sessionUpdate") == "agent_message_chunk"
            ):
                texts.append(str((update.get("content") or {}).get("text", "")))
        return "".join(texts)

    def _check(self, stop: str, session: str, after: int, text: str) -> None:
        if stop != "end_turn":
            raise AcpFailed(f"direct: the turn ended with {stop!r}\n{self.driver.stderr_tail(10)}")
        said = self._chunks(session, after)
        if said != text:
            raise AcpFailed(f"direct: the session's text is not the answer: {said!r}")
        check_fake(self.fake, "direct")

    async def close(self) -> None:
        """Close the agent's stdin; it is killed by pid if it has not exited in 10 s."""
        await self.driver.close()


async def cold_direct(home: ClineHome, fake: FakeClineAPI, timeout: float) -> ColdStart:
    """A new agent's first task: spawn → initialize → session/new → prompt → first chunk."""
    start = time.perf_counter()
    direct = await Direct.start(home, fake, timeout)
    try:
        ready = time.perf_counter() - start
        first = await direct.first_event(timeout)
    except BaseException:
        await direct.close()
        raise
    return ColdStart(direct, first_event=ready + first, agent_ready=ready)


@dataclass
class ColdStart:
    """The direct side's first task, on an agent it had to start."""

    agent: Direct
    first_event: float
    """From the spawn to the first task's first text."""
    agent_ready: float
    """From the spawn to initialize's result."""


# -- the checks every run makes --------------------------------------------------------------------


def check_file(path: Path, side: str) -> None:
    try:
        text = path.read_text()
    except OSError as exc:
        raise AcpFailed(f"{side}: the one-tool task did not create {path.name}: {exc}") from None
    if text != FILE_TEXT:
        raise AcpFailed(f"{side}: {path.name} holds {text!r}, not {FILE_TEXT!r}")
    path.unlink()


def check_fake(fake: FakeClineAPI, side: str) -> None:
    """Every scripted reply was taken, and nothing unscripted asked."""
    if fake.problems or fake.pending:
        raise AcpFailed(
            f"{side}: the fake model server saw {fake.problems or 'no problem'}, "
            f"{fake.pending} scripted replies left"
        )


async def cancelled(future: asyncio.Future[Any]) -> None:
    """Cancel `future` if it is still pending (a run that failed) and reap it quietly."""
    if not future.done():
        future.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await future


# -- memory ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    """`VmRSS` and `VmHWM` (peak) of one process, in KiB."""

    rss_kib: int
    peak_kib: int

    @classmethod
    def of(cls, pid: int | None) -> Memory | None:
        """None off Linux, or when the process is gone."""
        if pid is None:
            return None
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            return cls(int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
        except (KeyError, ValueError, IndexError):
            return None

    @property
    def rss_mib(self) -> float:
        return self.rss_kib / MIB


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class AcpSamples:
    first_event_s: dict[str, list[float]] = field(
        default_factory=lambda: {"direct": [], "bridge": []}
    )
    first_event_paced_s: dict[str, list[float]] = field(
        default_factory=lambda: {"direct": [], "bridge": []}
    )
    tool_task_s: dict[str, list[float]] = field(
        default_factory=lambda: {"direct": [], "bridge": []}
    )
    cold_first_event_s: dict[str, float] = field(default_factory=dict)
    agent_ready_s: dict[str, float] = field(default_factory=dict)
    memory: dict[str, Memory | None] = field(default_factory=dict)
    seconds: float = 0.0


async def interleave(
    plan: AcpPlan, sides: dict[str, Callable[[int], Awaitable[float]]]
) -> dict[str, list[float]]:
    """`warmups + runs` rounds, every side once a round, the order flipping each round."""
    samples: dict[str, list[float]] = {label: [] for label in sides}
    order = list(sides)
    for round_no in range(plan.warmups + plan.runs):
        for label in order:
            elapsed = await sides[label](round_no)
            if round_no >= plan.warmups:
                samples[label].append(elapsed)
        order.reverse()
    return samples


async def measure(binary: Path, root: Path, plan: AcpPlan, timeout: float) -> AcpSamples:
    """Set both sides up in `root`, measure, and end every process of theirs on every path."""
    samples = AcpSamples()
    began = time.perf_counter()
    with contextlib.ExitStack() as fakes:
        fake = {
            side: fakes.enter_context(FakeClineAPI(unscripted_status=401))
            for side in ("direct", "bridge")
        }
        home = {side: make_cline_home(root / side, fake[side].url, binary) for side in fake}
        # In the bridge's home, which it does not touch: it starts no agent.
        samples.memory["no host"] = await memory_without_host(
            home["bridge"], fake["bridge"], timeout
        )
        bridge = await Bridge.start(home["bridge"], fake["bridge"], timeout)
        try:
            samples.memory["acp host, initialized"] = Memory.of(bridge.pid)
            # The cold starts, the direct side first; both find the binary in the page cache
            # (the ACP tests and earlier runs leave it there).
            cold = await cold_direct(home["direct"], fake["direct"], timeout)
            try:
                samples.cold_first_event_s["direct"] = cold.first_event
                samples.agent_ready_s["direct"] = cold.agent_ready
                first, replied = await bridge.first_event(timeout)
                samples.cold_first_event_s["bridge"] = first
                samples.agent_ready_s["bridge"] = replied
                await measure_warm(bridge, cold.agent, plan, timeout, samples)
            finally:
                await cold.agent.close()
        finally:
            await bridge.close()
    samples.seconds = time.perf_counter() - began
    return samples


async def measure_warm(
    bridge: Bridge, direct: Direct, plan: AcpPlan, timeout: float, samples: AcpSamples
) -> None:
    """The timed runs on agents already started, then the memory they left."""

    async def first_events(pace: float) -> dict[str, list[float]]:
        async def bridge_first(round_no: int) -> float:
            elapsed, _ = await bridge.first_event(timeout, pace)
            return elapsed

        async def direct_first(round_no: int) -> float:
            return await direct.first_event(timeout, pace)

        return await interleave(plan, {"direct": direct_first, "bridge": bridge_first})

    samples.first_event_s = await first_events(0.0)
    samples.first_event_paced_s = await first_events(PACE)
    samples.tool_task_s = await interleave(
        plan,
        {
            "direct": lambda n: direct.tool_task(f"direct-{n:03d}.txt", timeout),
            "bridge": lambda n: bridge.tool_task(f"bridge-{n:03d}.txt", timeout),
        },
    )
    samples.memory["acp host, after tasks"] = Memory.of(bridge.pid)
    samples.memory["bridge's agent"] = Memory.of(await bridge.agent_pid(timeout))
    samples.memory["direct agent"] = Memory.of(direct.pid)


async def memory_without_host(home: ClineHome, fake: FakeClineAPI, timeout: float) -> Memory | None:
    """The sidecar's RSS after `initialize` when its `acp.command` does not exist."""
    bridge = await Bridge.start(home, fake, timeout, acp={"command": [MISSING_COMMAND]})
    try:
        status = await bridge.execute(STATUS, [], timeout)
        if not (isinstance(status, dict) and status.get("host") == "none"):
            raise AcpFailed(f"bridge without the CLI: expected host 'none', got {status!r}")
        return Memory.of(bridge.pid)
    finally:
        await bridge.close()


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary folder, removed on every path."""
    root = Path(tempfile.mkdtemp(prefix="cline-bridge-bench-acp-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(plan: AcpPlan, timeout: float) -> AcpResults:
    """Measure (its own event loop); raise ToolsMissing without the CLI, AcpFailed on a bad run.

    A Cline process still running under the part's folder at the end is killed by pid and fails
    the part, unless the part had failed already.
    """
    binary = require_cline_binary()
    with workspace() as root:
        try:
            with cline_leak_guard(binary, [root]):
                samples = asyncio.run(measure(binary, root, plan, timeout))
        except AssertionError as exc:  # the leak guard's
            raise AcpFailed(str(exc)) from None
    return AcpResults(plan, samples)


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcpResults:
    plan: AcpPlan
    samples: AcpSamples

    def stats(self, series: dict[str, list[float]]) -> tuple[Stats, Stats]:
        return Stats.of(series["direct"]), Stats.of(series["bridge"])

    def rows(self) -> list[Row]:
        first_d, first_b = self.stats(self.samples.first_event_s)
        paced_d, paced_b = self.stats(self.samples.first_event_paced_s)
        tool_d, tool_b = self.stats(self.samples.tool_task_s)
        cold = self.samples.cold_first_event_s
        return [
            Row(
                "first event, median (ms)",
                first_d.median * MS,
                first_b.median * MS,
                FIRST_EVENT_TARGET,
            ),
            Row("first event, p90 (ms)", first_d.p90 * MS, first_b.p90 * MS),
            Row(
                f"  paced {PACE * MS:.0f} ms, median (ms)",
                paced_d.median * MS,
                paced_b.median * MS,
                FIRST_EVENT_TARGET,
            ),
            Row(f"  paced {PACE * MS:.0f} ms, p90 (ms)", paced_d.p90 * MS, paced_b.p90 * MS),
            Row(
                "one-tool task, median (ms)",
                tool_d.median * MS,
                tool_b.median * MS,
                TOOL_TASK_TARGET,
            ),
            Row("one-tool task, p90 (ms)", tool_d.p90 * MS, tool_b.p90 * MS),
            Row("cold first event (ms)", cold["direct"] * MS, cold["bridge"] * MS),
        ]

    def memory_rows(self) -> list[Row]:
        memory = self.samples.memory
        base = memory.get("no host")
        rows = []
        for label, key in (
            ("sidecar RSS, initialized (MiB)", "acp host, initialized"),
            ("sidecar RSS, after tasks (MiB)", "acp host, after tasks"),
        ):
            value = memory.get(key)
            if base is not None and value is not None:
                rows.append(Row(label, base.rss_mib, value.rss_mib))
        return rows

    def lines(self) -> list[str]:
        plan, samples = self.plan, self.samples
        first_d, first_b = self.stats(samples.first_event_s)
        paced_d, paced_b = self.stats(samples.first_event_paced_s)
        tool_d, tool_b = self.stats(samples.tool_task_s)
        ready = samples.agent_ready_s
        lines = [
            "ACP host: the sidecar (bridge: startNewTask over LSP, task events back) against",
            "cline --acp driven directly (direct: session/new + session/prompt), each with its own",
            "agent and fake model server",
            f"{plan.runs} runs per measure, interleaved, after the cold first task and "
            f"{plan.warmups} warm-up(s)",
            "first event: startNewTask -> first message event / session/new -> first "
            "agent_message_chunk;",
            f"the model's answer sent at once, then paced ({PACE * MS:.0f} ms between SSE events)",
            "one-tool task: create a file, approve, final answer; -> turnEnd / prompt result",
            "",
            *render(self.rows(), "direct", "bridge", width=WIDTH),
            f"bridge overhead, medians: first event {overhead(first_d, first_b):+.1f} ms "
            f"(paced {overhead(paced_d, paced_b):+.1f} ms), "
            f"one-tool task {overhead(tool_d, tool_b):+.1f} ms",
            f"agent start: direct spawn -> initialize {ready['direct'] * MS:.0f} ms; bridge first "
            f"startNewTask -> reply (spawn, initialize, session/new) {ready['bridge'] * MS:.0f} ms",
            "",
        ]
        memory_rows = self.memory_rows()
        if memory_rows:
            lines += [
                "sidecar memory (VmRSS of the sidecar process alone; baseline: no ACP host, "
                "acp.command not found)",
                *render(memory_rows, "no host", "acp host", width=WIDTH),
            ]
        else:
            lines.append("sidecar memory: not measured (no /proc)")
        agents = [
            f"{label} {value.rss_mib:.0f} MiB (peak {value.peak_kib / MIB:.0f})"
            for label in ("bridge's agent", "direct agent")
            if (value := samples.memory.get(label)) is not None
        ]
        if agents:
            lines.append("agent RSS, for context: " + ", ".join(agents))
        lines.append(f"this part took {samples.seconds:.1f} s")
        return lines

    def to_json(self) -> dict[str, Any]:
        samples = self.samples
        return {
            "plan": asdict(self.plan),
            "rows": [row_json(row) for row in self.rows()],
            "memory_rows": [row_json(row) for row in self.memory_rows()],
            "first_event_s": samples.first_event_s,
            "first_event_paced_s": samples.first_event_paced_s,
            "pace_s": PACE,
            "tool_task_s": samples.tool_task_s,
            "cold_first_event_s": samples.cold_first_event_s,
            "agent_ready_s": samples.agent_ready_s,
            "memory_kib": {
                label: asdict(value) if value is not None else None
                for label, value in samples.memory.items()
            },
            "seconds": samples.seconds,
        }


def overhead(direct: Stats, bridge: Stats) -> float:
    """What the bridge adds to the direct median, in ms."""
    return (bridge.median - direct.median) * MS
