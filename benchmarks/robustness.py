"""The sidecar under load it must shrug off: memory over many forwarded commands, and the control
endpoint while the editor does not read.

One sidecar is started as the control table starts it (a private runtime folder, `clineApi: true`,
a Cline whose records it cannot read, so every `clineBridge.startNewTask` is forwarded to this
process, which plays the editor and answers each with `null`).

- memory: `clineBridge.startNewTask` sent over the editor's connection, pipelined in blocks; the
  sidecar's resident set (VmRSS, read from /proc) after the first `MEMORY_BASE` commands against
  after `MEMORY_TOTAL`: what each forwarded command leaves behind shows as growth.
- control while the editor does not read: a control client's `clineBridge.status` round trip
  with the editor reading, against the same while the editor has stopped reading stdout and has
  `FLOOD` requests' answers waiting for it (far more than a pipe holds). A sidecar whose stdout
  writes block would not answer at all; one that never blocks answers as fast as before.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control import COMMAND, EXECUTE, Bridge
from lsp_client import LspClient, LspError
from measures import Stats
from table import Row, render, row_json

MEMORY_BASE = 1_000
MEMORY_TOTAL = 20_000
MEMORY_BLOCK = 100
MEMORY_TARGET = 1.05
RTT_TARGET = 2.0
FLOOD = 3_000
"""Requests whose answers wait for the editor while it does not read: about 1.5 MB of answers."""
STATUS = {"command": "clineBridge.status", "arguments": []}
MB, US = 1024 * 1024, 1e6
WIDTH = 36


@dataclass(frozen=True)
class RobustnessPlan:
    trips: int
    """Control round trips timed on each side."""
    warmups: int


@dataclass(frozen=True)
class RobustnessResults:
    plan: RobustnessPlan
    rss_bytes: tuple[int, int]
    """The sidecar's resident set after `MEMORY_BASE` and after `MEMORY_TOTAL` commands."""
    forwarded: int
    """Commands the editor received: `MEMORY_TOTAL` when none was lost."""
    reading_s: list[float]
    stalled_s: list[float]
    unanswered: int
    """Control round trips not answered within the timeout while the editor did not read."""
    editor_answers: int
    """Of the `FLOOD` requests, those the editor got answers to once it read again."""

    def rows(self) -> list[Row]:
        base, total = self.rss_bytes
        reading, stalled = Stats.of(self.reading_s), Stats.of(self.stalled_s or [float("inf")])
        return [
            Row(
                f"RSS, {MEMORY_TOTAL // 1000}k vs {MEMORY_BASE // 1000}k commands (MB)",
                base / MB,
                total / MB,
                MEMORY_TARGET,
            ),
            Row(
                "control RTT, not reading, median (us)",
                reading.median * US,
                stalled.median * US,
                RTT_TARGET,
            ),
            Row("control RTT, p99 (us)", reading.p99 * US, stalled.p99 * US),
        ]

    def lines(self) -> list[str]:
        return [
            "robustness: the sidecar's memory over many forwarded commands, and the control",
            "endpoint while the editor does not read",
            f"memory: {COMMAND} over the editor's connection in pipelined blocks of "
            f"{MEMORY_BLOCK};",
            f"  the sidecar's RSS after {MEMORY_BASE} (baseline) and after {MEMORY_TOTAL} "
            "(candidate)",
            f"control: {self.plan.trips} sequential clineBridge.status from a script, after "
            f"{self.plan.warmups} warm-ups,",
            f"  the editor reading (baseline), then not reading, {FLOOD} answers waiting for it "
            "(candidate)",
            "",
            *render(self.rows(), "baseline", "candidate", width=WIDTH),
            *self.notes(),
        ]

    def notes(self) -> list[str]:
        notes = []
        if self.forwarded != MEMORY_TOTAL:
            notes.append(f"note: the editor received {self.forwarded} of {MEMORY_TOTAL} commands")
        if self.unanswered:
            notes.append(
                f"MISSED: {self.unanswered} of {self.plan.trips} control round trips were not "
                "answered while the editor did not read"
            )
        else:
            notes.append(
                "every control round trip was answered; once it read again, the editor got "
                f"{self.editor_answers} of its {FLOOD} answers"
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [row_json(row) for row in self.rows()],
            "rss_bytes": list(self.rss_bytes),
            "forwarded": self.forwarded,
            "unanswered": self.unanswered,
            "editor_answers": self.editor_answers,
            "control_round_trip_s": {
                "reading": Stats.of(self.reading_s).__dict__,
                "not_reading": Stats.of(self.stalled_s).__dict__ if self.stalled_s else None,
            },
        }


def rss_bytes(pid: int) -> int:
    """The resident set of process `pid`, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LspError(f"no VmRSS for process {pid}")


async def forward(bridge: Bridge, count: int, timeout: float) -> None:
    params = {"command": COMMAND, "arguments": [{"task": "bench"}]}
    for _ in range(count // MEMORY_BLOCK):
        await bridge.editor.pipeline(EXECUTE, [params] * MEMORY_BLOCK, timeout)


async def measure_memory(bridge: Bridge, timeout: float) -> tuple[int, int]:
    assert bridge.editor.proc is not None
    pid = bridge.editor.proc.pid
    await forward(bridge, MEMORY_BASE, timeout)
    base = await asyncio.to_thread(rss_bytes, pid)
    await forward(bridge, MEMORY_TOTAL - MEMORY_BASE, timeout)
    return base, await asyncio.to_thread(rss_bytes, pid)


async def time_status(control: LspClient, count: int, timeout: float) -> tuple[list[float], int]:
    """`count` sequential control round trips: their times, and how many got no answer."""
    samples, unanswered = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            await control.request(EXECUTE, STATUS, timeout)
        except LspError:
            unanswered += 1
            continue
        samples.append(time.perf_counter() - started)
    return samples, unanswered


async def measure_stalled_editor(
    bridge: Bridge, control: LspClient, plan: RobustnessPlan, timeout: float
) -> tuple[list[float], list[float], int, int]:
    await time_status(control, plan.warmups, timeout)
    reading, _ = await time_status(control, plan.trips, timeout)
    editor = bridge.editor
    editor.stop_reading()
    flood = asyncio.ensure_future(editor.pipeline(EXECUTE, [STATUS] * FLOOD, 4 * timeout))
    try:
        await asyncio.sleep(0.5)  # the sidecar has answered into a full pipe by now
        # Short waits: a sidecar blocked on stdout would stall every trip for its whole timeout.
        stalled, unanswered = await time_status(control, plan.trips, min(timeout, 2.0))
    finally:
        editor.read_again()
    try:
        answers = len(await flood)
    except LspError:
        answers = 0
    return reading, stalled, unanswered, answers


async def run(plan: RobustnessPlan, timeout: float) -> RobustnessResults:
    bridge = await Bridge.start(timeout)
    control: LspClient | None = None
    try:
        rss = await measure_memory(bridge, timeout)
        forwarded = len(bridge.received)
        control = await bridge.connect(timeout)
        reading, stalled, unanswered, answers = await measure_stalled_editor(
            bridge, control, plan, timeout
        )
    finally:
        if control is not None:
            await control.close()
        await bridge.close()
    return RobustnessResults(plan, rss, forwarded, reading, stalled, unanswered, answers)
