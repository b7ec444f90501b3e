"""Whole `cline-bridge` commands as a user runs them, each against a baseline process of the same
run, on the same interpreter:

- `cline-bridge approve --bridge FILE` against a live sidecar whose editor answers the ClineAPI
  request, against `python -c pass`: what a one-shot command costs beyond starting Python (its
  imports, its parser, the connection, three round trips). The editor declares a Cline whose
  records the bridge cannot read, so that every approve is pressed in the editor (the longest
  path). Target: median ratio <= 4.
- `cline-bridge chat PROMPT` against the local SSE server (`sse_server.py`, a 200-delta answer),
  against the same request made by a few lines on raw httpx (stream, print the deltas): what our
  CLI adds to the least an httpx program does. No target.

Each is a process timed from spawn to exit (`time.perf_counter` around `subprocess.run`), the two
sides interleaved run by run after warm-ups; a side whose output is not what it should be fails
the table. The sidecar and its runtime folder are removed at the end.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import control
import repo  # noqa: F401  (puts tests/ on sys.path)
from lsp_client import LspError
from measures import Stats
from sse_server import SseServer, expected_text
from table import Row, render, row_json

# isort: split
from tests.support.environment import without_cline_settings

APPROVE_TARGET = 4.0
CHAT_DELTAS = 200
RUN_TIMEOUT = 60.0
MS = 1e3
PRESSED = (
    "Pressed Cline's primary button (this Cline does not tell the bridge what it waits for).\n"
)

RAW_HTTPX_CHAT = """
import json, sys
import httpx

url, prompt = sys.argv[1], sys.argv[2]
body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "stream": True}
with httpx.Client(timeout=60) as client:
    with client.stream("POST", url + "/chat/completions", json=body,
                       headers={"Authorization": "Bearer k"}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                for choice in json.loads(line[6:]).get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        sys.stdout.write(text)
print()
"""


@dataclass(frozen=True)
class CommandsPlan:
    runs: int
    warmups: int


@dataclass(frozen=True)
class Pair:
    """One row: the baseline's and the command's wall times, in seconds."""

    label: str
    baseline: Stats
    command: Stats
    target: float | None

    @property
    def extra_ms(self) -> float:
        return (self.command.median - self.baseline.median) * MS


@dataclass(frozen=True)
class CommandsResults:
    pairs: list[Pair]
    plan: CommandsPlan

    def rows(self) -> list[Row]:
        return [
            Row(
                f"{pair.label}, median (ms)",
                pair.baseline.median * MS,
                pair.command.median * MS,
                pair.target,
            )
            for pair in self.pairs
        ] + [
            Row(f"{pair.label}, p90 (ms)", pair.baseline.p90 * MS, pair.command.p90 * MS)
            for pair in self.pairs
        ]

    def lines(self) -> list[str]:
        approve, chat = self.pairs
        return [
            f"whole commands: wall time from spawn to exit, {self.plan.runs} runs each, "
            f"interleaved, after {self.plan.warmups} warm-up(s)",
            "  approve: `cline-bridge approve` to a live sidecar vs `python -c pass`",
            f"  chat: `cline-bridge chat` vs raw httpx, the same {CHAT_DELTAS}-delta stream",
            "",
            *render(self.rows(), "baseline", "command", width=28),
            f"the command's own cost: approve +{approve.extra_ms:.1f} ms, "
            f"chat +{chat.extra_ms:.1f} ms (medians)",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": {"runs": self.plan.runs, "warmups": self.plan.warmups},
            "rows": [row_json(row) for row in self.rows()],
        }


def cline_bridge_program() -> str:
    """The `cline-bridge` console script of this interpreter's environment."""
    program = Path(sys.executable).with_name("cline-bridge")
    if not program.is_file():
        raise LspError(f"{program} is missing: install the package (make install)")
    return str(program)


def interleaved(
    baseline: Sequence[str],
    command: Sequence[str],
    expected: tuple[str, str],
    plan: CommandsPlan,
    env: dict[str, str],
) -> tuple[Stats, Stats]:
    """Run both `warmups + runs` times, alternating and flipping the order each round; each
    run's stdout must end with its expected text."""
    sides = [(list(baseline), expected[0]), (list(command), expected[1])]
    samples: list[list[float]] = [[], []]
    order = [0, 1]
    for round_no in range(plan.warmups + plan.runs):
        for index in order:
            argv, output = sides[index]
            start = time.perf_counter()
            done = subprocess.run(
                argv,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0 or not done.stdout.endswith(output):
                raise LspError(
                    f"{' '.join(argv[:3])}...: exit {done.returncode}, "
                    f"stdout {done.stdout[-200:]!r}, stderr {done.stderr[-500:]!r}"
                )
            if round_no >= plan.warmups:
                samples[index].append(elapsed)
        order.reverse()
    return Stats.of(samples[0]), Stats.of(samples[1])


async def _live_bridge(timeout: float) -> control.Bridge:
    # A Cline that keeps no records the bridge reads (control.UNGUARDED_CLINE): every approve
    # reaches the editor (a Cline 4 with nothing waiting would be answered "none" by the sidecar
    # alone, a shorter path).
    bridge = await control.Bridge.start(timeout)
    bridge.editor.handlers["clineBridge/pressPrimaryButton"] = lambda params: None
    return bridge


def run(plan: CommandsPlan, timeout: float) -> CommandsResults:
    program = cline_bridge_program()
    env = without_cline_settings()
    loop = asyncio.new_event_loop()
    try:
        bridge = loop.run_until_complete(_live_bridge(timeout))
        try:
            # The sidecar's editor is served by this loop: keep it running in the background.
            runner = _LoopThread(loop)
            try:
                approve = interleaved(
                    [sys.executable, "-c", "pass"],
                    [program, "approve", "--bridge", str(bridge.discovery_file)],
                    ("", PRESSED),
                    plan,
                    env,
                )
            finally:
                runner.stop()
        finally:
            loop.run_until_complete(bridge.close())
    finally:
        loop.close()
    with SseServer() as server:
        url = server.base_url(CHAT_DELTAS)
        answer = expected_text(CHAT_DELTAS) + "\n"
        chat = interleaved(
            [sys.executable, "-c", RAW_HTTPX_CHAT, url, "bench"],
            [program, "chat", "bench"],
            (answer, answer),
            plan,
            {**env, "CLINE_API_KEY": "k", "CLINE_API_BASE_URL": url},
        )
    return CommandsResults(
        [
            Pair("approve vs python -c pass", *approve, APPROVE_TARGET),
            Pair("chat vs raw httpx", *chat, None),
        ],
        plan,
    )


class _LoopThread:
    """Runs an event loop on a thread until stopped, so that its connections keep being served
    while this thread blocks on subprocesses."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
