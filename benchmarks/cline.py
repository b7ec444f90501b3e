"""The editor host with the real Cline extension, in code-server, against the fake model.

One code-server (Node 24, cached by `make e2e-tools`) runs the bridge's VSIX, the real Cline (from
the sources of scripts/install-cline.sh) configured to use the fake model on 127.0.0.1 with file
edits auto-approved, and a helper extension (`cline-bench.cline-direct-0.0.1/`) that starts
Cline tasks through Cline's exports when asked on a Unix socket. A headless Chromium page keeps
the extension host alive.

- task -> model request: `cline-bridge task TEXT --bridge FILE` (spawned as a user runs it)
  against the helper extension calling `startNewTask(TEXT)` itself (one line on its socket), each
  timed from its start to the fake model receiving Cline's first request, interleaved. What the
  bridge adds to starting a task. Target: median ratio <= 1.2.
- event after record: a task of 20 tool calls (edits) and a closing text, against a fast fake
  model. A poller in this process reads Cline's session files every 5 ms and notes when each
  `tool_use`, each `tool_result` and the final `idle` first appear: when Cline recorded them. A
  script subscribed to the bridge's task events notes when the matching `toolCall` (pending,
  completed) and `turnEnd` events arrive. Baseline: a bare watchfiles watch of the same folder in
  this process, with the bridge's settings, reading the files at each batch: the least a watcher
  of Cline's files can do. Target: p95 <= 300 ms after Cline wrote the record, none lost.

Everything started is stopped at the end: code-server's process group by pid (its sidecar
included), the browser, the fake model and the temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import repo  # noqa: F401  (puts tests/ on sys.path)
from commands import cline_bridge_program
from lsp_client import LspError
from measures import Stats, percentile
from table import Row, render, row_json

# isort: split
from tests.editors.vscode.real_cline import ClineNotInstalled, ClineRecords, RealCline
from tests.editors.vscode.workbench import (
    VSIX,
    EditorToolsMissing,
    Workbench,
    chromium_page,
    code_server,
    installed_tools,
    wait_until,
)
from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.environment import without_cline_settings

from cline_bridge.client import Bridge

HELPER = Path(__file__).resolve().with_name("cline-bench.cline-direct-0.0.1")
FIRST_REQUEST_TARGET = 1.2
EVENT_P95_TARGET_MS = 300.0
TOOL_CALLS = 20
POLL_INTERVAL = 0.005
STEP_TIMEOUT = 60.0
MS = 1e3


class ClineBenchFailed(Exception):
    """The table could not be measured: tools missing, or a step that did not happen."""


@dataclass(frozen=True)
class ClinePlan:
    runs: int
    warmups: int


@dataclass(frozen=True)
class ClineResults:
    plan: ClinePlan
    direct: Stats
    bridge: Stats
    bare_latency_s: list[float]
    event_latency_s: list[float]
    lost: list[str]

    def rows(self) -> list[Row]:
        bare, event = sorted(self.bare_latency_s), sorted(self.event_latency_s)
        return [
            Row(
                "task -> model, median (ms)",
                self.direct.median * MS,
                self.bridge.median * MS,
                FIRST_REQUEST_TARGET,
            ),
            Row("task -> model, p90 (ms)", self.direct.p90 * MS, self.bridge.p90 * MS),
            Row(
                "event after record, median",
                percentile(bare, 0.5) * MS,
                percentile(event, 0.5) * MS,
            ),
            Row(
                "event after record, p95", percentile(bare, 0.95) * MS, percentile(event, 0.95) * MS
            ),
        ]

    @property
    def event_p95_ms(self) -> float:
        return percentile(sorted(self.event_latency_s), 0.95) * MS

    def lines(self) -> list[str]:
        verdict = "ok" if self.event_p95_ms <= EVENT_P95_TARGET_MS and not self.lost else "MISSED"
        return [
            "real Cline in code-server (editor host)",
            f"  task -> model: `cline-bridge task` vs the ClineAPI called by a helper extension, "
            f"{self.plan.runs} runs each, interleaved, after {self.plan.warmups} warm-up(s)",
            f"  event after record: {TOOL_CALLS} tool calls; ms from Cline writing a record to its "
            "event, vs a bare watchfiles watch",
            "",
            *render(self.rows(), "baseline", "bridge"),
            f"event latency p95 {self.event_p95_ms:.0f} ms (target <= {EVENT_P95_TARGET_MS:.0f} "
            f"ms) over {len(self.event_latency_s)} records, {len(self.lost)} lost: {verdict}",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": {"runs": self.plan.runs, "warmups": self.plan.warmups},
            "rows": [row_json(row) for row in self.rows()],
            "event_p95_ms": self.event_p95_ms,
            "event_latency_s": self.event_latency_s,
            "bare_latency_s": self.bare_latency_s,
            "lost": self.lost,
        }


def run(plan: ClinePlan) -> ClineResults:
    try:
        tools = installed_tools()
    except EditorToolsMissing as error:
        raise ClineBenchFailed(str(error)) from None
    if not VSIX.is_file():
        raise ClineBenchFailed(f"{VSIX} is missing: run `make vsix`")
    root = Path(tempfile.mkdtemp(prefix="cline-bridge-bench-cline-"))
    try:
        with ExitStack() as stack:
            fake = stack.enter_context(FakeClineAPI(unscripted_status=401))
            direct_socket = root / "run" / "cline-direct.sock"
            cline = RealCline(fake.url, "sk-bench", auto_approve_edits=True)
            try:
                editor = stack.enter_context(
                    code_server(
                        tools, VSIX, root, cline=cline, unpacked=[HELPER],
                        env={"CLINE_DIRECT_SOCKET": str(direct_socket)},
                    )
                )  # fmt: skip
            except ClineNotInstalled as error:
                raise ClineBenchFailed(str(error)) from None
            Workbench(editor, stack.enter_context(chromium_page())).open()
            discovery = _wait(
                lambda: next((root / "run" / "cline-bridge").glob("*.json"), None),
                "the bridge's discovery file",
            )
            _wait(direct_socket.exists, "the helper extension's socket")
            records = ClineRecords(editor.cline_data)
            direct, bridge = _first_requests(plan, fake, records, discovery, direct_socket)
            # Playwright's sync API keeps an event loop on this thread: the script gets its own.
            with ThreadPoolExecutor(1) as script:
                latency = _event_latency(editor.workspace, fake, records, discovery)
                bare, event, lost = script.submit(asyncio.run, latency).result()
            if fake.problems:
                raise ClineBenchFailed(f"the fake model: {fake.problems}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return ClineResults(plan, direct, bridge, bare, event, lost)


# -- task -> the model's first request ----------------------------------------------------------


def _first_requests(
    plan: ClinePlan, fake: FakeClineAPI, records: ClineRecords, discovery: Path, direct: Path
) -> tuple[Stats, Stats]:
    program = cline_bridge_program()
    environ = without_cline_settings()
    samples: list[list[float]] = [[], []]
    for round_no in range(plan.warmups + plan.runs):
        sides = (0, 1) if round_no % 2 == 0 else (1, 0)
        for side in sides:
            text = f"Say done ({'bridge' if side else 'direct'} {round_no})"
            fake.script(text_turn("Done."))
            requests = len(fake.chat_requests)
            start = time.monotonic()
            if side:
                command = [program, "task", text, "--bridge", str(discovery)]
                finished: Callable[[], object] = _spawned(command, environ)
            else:
                finished = _asked(direct, text)
            _wait_for_request(fake, requests)
            elapsed = time.monotonic() - start
            finished()
            _wait_for_idle(fake, records)
            if round_no >= plan.warmups:
                samples[side].append(elapsed)
    return Stats.of(samples[0]), Stats.of(samples[1])


def _wait_for_request(fake: FakeClineAPI, before: int) -> None:
    _wait(lambda: len(fake.chat_requests) > before, "Cline's request to the model")


def _wait_for_idle(fake: FakeClineAPI, records: ClineRecords) -> None:
    """The model's answer sent, and Cline's newest task idle: the next sample starts clean."""
    _wait(lambda: fake.chat_requests[-1].finished.is_set(), "the model's answer")
    session = _wait(lambda: (ids := records.session_ids()) and ids[-1], "Cline's task")
    _wait(lambda: records.status(session) == "idle", "Cline's task to be idle")


def _spawned(command: list[str], environ: dict[str, str]) -> Callable[[], object]:
    """Start `command`; return what waits for it to succeed."""
    process = subprocess.Popen(
        command, env=environ, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def finished() -> object:
        try:
            out, err = process.communicate(timeout=STEP_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            raise ClineBenchFailed(f"{' '.join(command[:3])}: exit {process.returncode}: {err}")
        return out

    return finished


def _asked(direct: Path, text: str) -> Callable[[], object]:
    """Ask the helper extension to start a task; return what waits for its answer."""
    connection = socket.socket(socket.AF_UNIX)
    connection.settimeout(STEP_TIMEOUT)
    connection.connect(str(direct))
    connection.sendall(json.dumps({"task": text}).encode() + b"\n")

    def finished() -> object:
        with connection:
            answer = connection.makefile().readline().strip()
        if answer != "ok":
            raise ClineBenchFailed(f"the helper extension answered {answer!r}")
        return answer

    return finished


# -- task events after Cline's records ----------------------------------------------------------

Key = tuple[str, str]
"""A record: ("use", call id), ("result", call id) or ("idle", "")."""


async def _event_latency(
    workspace: Path, fake: FakeClineAPI, records: ClineRecords, discovery: Path
) -> tuple[list[float], list[float], list[str]]:
    calls = [f"call_bench_{number:02}" for number in range(TOOL_CALLS)]
    fake.script(
        *(
            write_file(workspace / f"bench{number:02}.txt", f"{number}\n", call_id=call)
            for number, call in enumerate(calls)
        ),
        text_turn("Wrote them all."),
    )
    arrivals: dict[Key, float] = {}
    with _recorded(records) as written, _bare_watch(records) as bare:
        async with Bridge.connect(discovery, subscribe_events=True) as bridge:
            started = await bridge.start_new_task("Write the bench files")
            task_id = started.get("taskId")
            if not isinstance(task_id, str):
                raise ClineBenchFailed(f"startNewTask named no task: {started}")
            await asyncio.wait_for(_arrivals(bridge, task_id, arrivals), STEP_TIMEOUT * 2)
        await asyncio.sleep(0.2)  # the bare watch's last batch
    seen = written.get(task_id, {})
    expected = [("use", c) for c in calls] + [("result", c) for c in calls] + [("idle", "")]
    if missing := [key for key in expected if key not in seen]:
        raise ClineBenchFailed(f"the poller never saw {missing} in Cline's records")
    lost = [f"{kind} {name}".strip() for kind, name in expected if (kind, name) not in arrivals]
    event = [arrivals[key] - seen[key] for key in expected if key in arrivals]
    base = [bare[task_id][key] - seen[key] for key in expected if key in bare.get(task_id, {})]
    return base, event, lost


async def _arrivals(bridge: Bridge, task_id: str, arrivals: dict[Key, float]) -> None:
    """Note when each event of the task arrives, until its turn ends."""
    async for event in bridge.events():
        now = time.monotonic()
        if event.get("taskId") != task_id:
            continue
        if key := _event_key(event):
            arrivals.setdefault(key, now)
        if event.get("kind") == "turnEnd":
            return


def _event_key(event: dict[str, Any]) -> Key | None:
    if event.get("kind") == "toolCall" and event.get("status") == "pending":
        return ("use", str(event.get("toolCallId")))
    if event.get("kind") == "toolCall" and event.get("status") in ("completed", "failed"):
        return ("result", str(event.get("toolCallId")))
    if event.get("kind") == "turnEnd":
        return ("idle", "")
    return None


def _record_keys(records: ClineRecords, session: str) -> set[Key]:
    keys: set[Key] = set()
    for message in records.messages(session):
        for part in message.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "tool_use":
                keys.add(("use", str(part.get("id"))))
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                keys.add(("result", str(part.get("tool_use_id"))))
    if records.status(session) == "idle":
        keys.add(("idle", ""))
    return keys


Seen = dict[str, dict[Key, float]]
"""Per session, when each record was first seen."""


def _note(seen: Seen, records: ClineRecords, sessions: list[str]) -> None:
    now = time.monotonic()
    for session in sessions:
        noted = seen.setdefault(session, {})
        for key in _record_keys(records, session):
            noted.setdefault(key, now)


@contextmanager
def _recorded(records: ClineRecords) -> Iterator[Seen]:
    """When Cline wrote each record: Cline's files read every 5 ms on a thread (the oracle)."""
    seen: Seen = {}
    before = set(records.session_ids())

    def poll(stop: threading.Event) -> None:
        while not stop.wait(POLL_INTERVAL):
            _note(seen, records, [s for s in records.session_ids() if s not in before])

    with _on_a_thread(poll, "records-poller"):
        yield seen


@contextmanager
def _bare_watch(records: ClineRecords) -> Iterator[Seen]:
    """The baseline: watchfiles on the sessions folder, with the bridge's step and debounce,
    reading the sessions it names at each batch."""
    from watchfiles import watch

    seen: Seen = {}
    before = set(records.session_ids())

    def follow(stop: threading.Event) -> None:
        options: dict[str, Any] = {"step": 20, "debounce": 100, "rust_timeout": 500}
        for batch in watch(records.sessions, stop_event=stop, yield_on_timeout=True, **options):
            named = {Path(path).relative_to(records.sessions).parts[0] for _, path in batch}
            _note(seen, records, sorted(named - before))

    with _on_a_thread(follow, "bare-watch"):
        yield seen


@contextmanager
def _on_a_thread(work: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """Run ``work(stop)`` on a thread for the ``with`` block; set ``stop`` and join after."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def _wait(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` every millisecond (it times what it waits for) until it is truthy."""
    try:
        return wait_until(condition, STEP_TIMEOUT, what, interval=0.001)
    except AssertionError as error:
        raise ClineBenchFailed(str(error)) from None


__all__ = ["ClineBenchFailed", "ClinePlan", "ClineResults", "LspError", "run"]
