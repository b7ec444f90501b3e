"""`clineBridge.startNewTask` from scripts over the control endpoint, against the editor's own LSP
connection to the same sidecar.

One sidecar is started with `XDG_RUNTIME_DIR` set to a fresh private temporary folder and
initialized over stdio with `clineApi: true` and a Cline whose records it cannot read
(`UNGUARDED_CLINE`: every command is forwarded as it comes). This process plays the editor on
that connection: it answers every `clineBridge/startNewTask` the sidecar sends with `null` and
records the task text.
`clineBridge.status` names the discovery file; the control clients connect to the Unix socket it
names and authenticate with its token. Both paths end at the same editor connection, so the ratios
show what the control path adds or saves: a second socket, the endpoint's own framing and dispatch
in place of pygls's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import repo  # noqa: F401  (puts tests/ on sys.path)
from lsp_client import LspClient, LspError
from measures import RoundTrip, Side, Stats, round_trips
from table import Row, render, row_json

# isort: split
from tests.support.environment import without_cline_settings

COMMAND = "clineBridge.startNewTask"
EDITOR_REQUEST = "clineBridge/startNewTask"
EXECUTE = "workspace/executeCommand"
SIDECAR = (sys.executable, "-m", "cline_bridge", "serve")
ROUND_TRIP_TARGET = 1.5
THROUGHPUT_TARGET = 1 / ROUND_TRIP_TARGET
"""The latency budget turned into a rate: the control path keeps at least 0.67 of the LSP path's."""
LATENCY_TASK = "bench"
UNGUARDED_CLINE = {"version": "3.99.0"}
"""What the bench's editor says of its Cline: one whose records the bridge cannot read, so that
every command is forwarded as it comes (the sidecar neither waits to name the task nor reads
Cline's folder), the path before the editor host followed Cline."""
EXPECTED_RESULT = {"host": "editor", "dispatched": True, "action": "started"}
US = 1e6
WIDTH = 28


@dataclass(frozen=True)
class ControlPlan:
    """How many samples to take."""

    trips: int
    trip_warmups: int
    trip_block: int
    clients: int
    per_client: int
    runs: int
    warmups: int


class Bridge:
    """The sidecar, the editor's end of its stdio, and the control endpoint it advertised."""

    def __init__(self, runtime: Path, editor: LspClient) -> None:
        self.runtime = runtime
        self.editor = editor
        self.received: list[str] = []
        """The task text of every `clineBridge/startNewTask` the editor received, in order."""
        self.socket_path = ""
        self.discovery_file: Path | None = None
        self._token = ""
        editor.handlers[EDITOR_REQUEST] = self._on_task

    @classmethod
    async def start(cls, timeout: float, cline: dict[str, Any] = UNGUARDED_CLINE) -> Bridge:
        """``cline``: what the editor says of the installed Cline (``initializationOptions``)."""
        runtime = Path(tempfile.mkdtemp(prefix="cline-bridge-bench-"))  # mode 0700
        try:
            # A Cline folder of its own: the editor host never follows the user's Cline tasks.
            env = without_cline_settings(
                XDG_RUNTIME_DIR=str(runtime), CLINE_DIR=str(runtime / "cline")
            )
            bridge = cls(runtime, await LspClient.spawn(SIDECAR, env))
        except OSError:
            shutil.rmtree(runtime, ignore_errors=True)
            raise
        options: dict[str, Any] = {"clineApi": True, "cline": cline}
        try:
            await bridge.editor.initialize(options, timeout)
            await bridge._discover(timeout)
        except (LspError, OSError, ValueError) as exc:
            tail = bridge.editor.stderr_tail()
            await bridge.close()
            raise LspError(f"sidecar with a control endpoint: {exc}\n{tail}") from None
        return bridge

    async def _discover(self, timeout: float) -> None:
        """Find the discovery file through `clineBridge.status`, as a script's launcher would."""
        status = await self.editor.request(
            EXECUTE, {"command": "clineBridge.status", "arguments": []}, timeout
        )
        control = status.get("control") if isinstance(status, dict) else None
        if not isinstance(control, dict) or not isinstance(control.get("discoveryFile"), str):
            raise LspError(f"clineBridge.status reports no control endpoint: {status!r}")
        path = Path(control["discoveryFile"])
        if path.parent != self.runtime / "cline-bridge":
            raise LspError(f"the discovery file {path} is not in the runtime folder given")
        record = json.loads(await asyncio.to_thread(path.read_bytes))
        endpoint = record.get("endpoint") if isinstance(record, dict) else None
        token = record.get("token") if isinstance(record, dict) else None
        if not (isinstance(endpoint, str) and endpoint.startswith("unix:") and token):
            raise LspError(f"the discovery file holds no Unix endpoint and token: {endpoint!r}")
        self.socket_path = endpoint.removeprefix("unix:")
        self.discovery_file = path
        self._token = str(token)

    async def connect(self, timeout: float) -> LspClient:
        """A new control client, past `initialize` with the token."""
        client = await LspClient.connect_unix(self.socket_path, timeout)
        try:
            await client.initialize({"token": self._token}, timeout)
        except LspError as exc:
            await client.close()
            raise LspError(f"control client: {exc}\n{self.editor.stderr_tail()}") from None
        return client

    def _on_task(self, params: Any) -> None:
        self.received.append(params.get("task", "") if isinstance(params, dict) else repr(params))

    async def close(self) -> None:
        """End the sidecar (killed if it does not exit) and remove its runtime folder."""
        try:
            await self.editor.close()
        finally:
            shutil.rmtree(self.runtime, ignore_errors=True)


def timed_side(label: str) -> Side:
    """The command both round-trip columns time (the sidecar is started by `Bridge`)."""
    return Side(label, SIDECAR, None, COMMAND, [{"task": LATENCY_TASK}])


@dataclass
class Delivery:
    """What the editor received of the commands one side sent, over every run."""

    sent: int = 0
    missing: int = 0
    duplicated: int = 0
    """Copies received beyond the first."""
    unexpected: int = 0
    out_of_order: int = 0
    """Connections whose commands the editor received in another order than they were sent."""
    bad_results: int = 0

    @property
    def exact(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected or self.bad_results)

    def check(self, sent: Sequence[Sequence[str]], received: Sequence[str], results: Any) -> None:
        self.sent += sum(len(batch) for batch in sent)
        expected = Counter(task for batch in sent for task in batch)
        got = Counter(received)
        self.missing += sum((expected - got).values())
        self.duplicated += sum(count - 1 for task, count in got.items() if task in expected)
        self.unexpected += sum(count for task, count in got.items() if task not in expected)
        for batch in sent:
            mine = set(batch)
            if [task for task in received if task in mine] != list(batch):
                self.out_of_order += 1
        self.bad_results += sum(result != EXPECTED_RESULT for result in results)


@dataclass
class Burst:
    """The throughput side: the connections it pipelines over and what they delivered."""

    label: str
    clients: list[LspClient]
    per_client: int
    rates: list[float] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)

    async def run(self, bridge: Bridge, tag: str, timeout: float) -> float:
        """Pipeline every connection's commands at once; commands per second, all answered."""
        batches = [
            [f"{tag} {self.label} {client:02d} {i:04d}" for i in range(self.per_client)]
            for client in range(len(self.clients))
        ]
        params = [[{"command": COMMAND, "arguments": [{"task": t}]} for t in b] for b in batches]
        first = len(bridge.received)
        start = time.perf_counter()
        results = await asyncio.gather(
            *(c.pipeline(EXECUTE, p, timeout) for c, p in zip(self.clients, params, strict=True))
        )
        elapsed = time.perf_counter() - start
        flat = [result for batch in results for result in batch]
        self.delivery.check(batches, bridge.received[first:], flat)
        return len(flat) / elapsed


@dataclass
class ControlSamples:
    round_trip_s: list[list[float]]
    """Per side (lsp, control): the latency of each sequential command."""
    latency_sent: int
    latency_received: int
    sample_result: Any
    bursts: list[Burst]


async def measure(plan: ControlPlan, timeout: float) -> ControlSamples:
    bridge = await Bridge.start(timeout)
    controls: list[LspClient] = []
    try:
        controls = [await bridge.connect(timeout) for _ in range(plan.clients)]
        trips = [
            RoundTrip(timed_side("lsp"), bridge.editor),
            RoundTrip(timed_side("control"), controls[0]),
        ]
        rtt = await round_trips(trips, plan.trips, plan.trip_warmups, plan.trip_block, timeout)
        latency_sent = 2 * (plan.trip_warmups + plan.trips)
        latency_received = bridge.received.count(LATENCY_TASK)
        bursts = [
            Burst("lsp", [bridge.editor], plan.clients * plan.per_client),
            Burst("control", controls, plan.per_client),
        ]
        for round_no in range(plan.warmups + plan.runs):
            for burst in bursts if round_no % 2 == 0 else bursts[::-1]:
                rate = await burst.run(bridge, f"r{round_no:02d}", timeout)
                if round_no >= plan.warmups:
                    burst.rates.append(rate)
    finally:
        await asyncio.gather(*(client.close() for client in controls))
        await bridge.close()
    return ControlSamples(rtt, latency_sent, latency_received, trips[1].last_result, bursts)


@dataclass(frozen=True)
class ControlResults:
    """The control endpoint table, as `run.py` prints it."""

    plan: ControlPlan
    samples: ControlSamples

    @property
    def round_trip_s(self) -> list[Stats]:
        return [Stats.of(series) for series in self.samples.round_trip_s]

    @property
    def rates(self) -> list[float]:
        """Median commands per second of each burst side (lsp, control)."""
        return [statistics.median(burst.rates) for burst in self.samples.bursts]

    def rows(self) -> list[Row]:
        lsp, control = self.round_trip_s
        lsp_rate, control_rate = self.rates
        return [
            Row("round trip, median (us)", lsp.median * US, control.median * US, ROUND_TRIP_TARGET),
            Row("round trip, p99 (us)", lsp.p99 * US, control.p99 * US),
            Row(
                "throughput, median (cmd/s)",
                lsp_rate,
                control_rate,
                THROUGHPUT_TARGET,
                at_least=True,
            ),
        ]

    def lines(self) -> list[str]:
        plan = self.plan
        total = plan.clients * plan.per_client
        spread = ", ".join(
            f"{burst.label} {min(burst.rates):.0f}-{max(burst.rates):.0f}"
            for burst in self.samples.bursts
        )
        return [
            f"control endpoint: {COMMAND} from scripts over the sidecar's Unix socket (control)",
            "against the same command on the editor's own connection to that sidecar (lsp); the",
            f"editor answers every {EDITOR_REQUEST} the sidecar forwards with null",
            f"round trip: {plan.trips} sequential requests each, one client a side, in alternating "
            f"blocks of {plan.trip_block}, after {plan.trip_warmups} warm-ups",
            f"throughput: {plan.clients} control clients each pipelining {plan.per_client} "
            f"commands on its own connection against {total}",
            f"pipelined on the editor's connection: {plan.runs} runs each, interleaved, "
            f"after {plan.warmups} warm-up(s)",
            "",
            *render(self.rows(), "lsp", "control", width=WIDTH),
            f"throughput range over the runs (cmd/s): {spread}",
            *self.notes(),
        ]

    def notes(self) -> list[str]:
        notes = []
        result = self.samples.sample_result
        if result != EXPECTED_RESULT:
            notes.append(f"note: {COMMAND} over the control endpoint returned {result!r}")
        sent, received = self.samples.latency_sent, self.samples.latency_received
        if sent != received:
            notes.append(f"note: the editor received {received} of the {sent} sequential commands")
        for burst in self.samples.bursts:
            notes.extend(_delivery_notes(burst))
        if not notes:
            sent = sum(burst.delivery.sent for burst in self.samples.bursts)
            notes.append(
                f"the editor received each of the {sent + received} commands exactly once, "
                "in order per connection"
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": asdict(self.plan),
            "rows": [row_json(row) for row in self.rows()],
            "round_trip_s": {
                label: asdict(stats)
                for label, stats in zip(("lsp", "control"), self.round_trip_s, strict=True)
            },
            "throughput_per_s": {burst.label: burst.rates for burst in self.samples.bursts},
            "delivery": {burst.label: asdict(burst.delivery) for burst in self.samples.bursts},
            "round_trip_delivery": {
                "sent": self.samples.latency_sent,
                "received": self.samples.latency_received,
            },
            "sample_result": self.samples.sample_result,
        }


def _delivery_notes(burst: Burst) -> list[str]:
    delivery, notes = burst.delivery, []
    if not delivery.exact:
        notes.append(
            f"note: of {delivery.sent} commands pipelined on {burst.label}, the editor missed "
            f"{delivery.missing}, received {delivery.duplicated} extra copies and "
            f"{delivery.unexpected} it was never sent; {delivery.bad_results} results were not "
            f"{EXPECTED_RESULT}"
        )
    if delivery.out_of_order:
        notes.append(
            f"note: on {delivery.out_of_order} {burst.label} connection-runs the editor received "
            "the commands in another order than they were sent"
        )
    return notes


async def run(plan: ControlPlan, timeout: float) -> ControlResults:
    return ControlResults(plan, await measure(plan, timeout))
