"""`clineBridge.chat` over LSP against our client used directly, on the same local stream.

The sidecar is initialized with `apiKey` and `apiBaseUrl` pointing at the local SSE server and runs
`workspace/executeCommand {command: "clineBridge.chat", arguments: [{"prompt": "bench"}],
workDoneToken: "bench-N"}`: a run is timed from sending that request to its response, and the
`$/progress` notifications for its token are recorded. The direct side is `ClineClient` in this
process on the same stream, timed to its last event.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lsp_client import LspClient, LspError
from measures import Stats
from sse_server import MODEL, SseServer, expected_text
from streaming import Side as StreamSide
from streaming import ours_side
from table import Row, render, row_json

COMMAND = "clineBridge.chat"
MS = 1e3
WIDTH = 28


@dataclass
class ChatRun:
    """One `clineBridge.chat` request: its latency, its progress, and whether the text added up."""

    seconds: float
    notifications: int
    """`$/progress` notifications for the request's token: begin, reports and end."""
    reports: int
    text: str
    reported_text: str


@dataclass
class LspChat:
    """A sidecar initialized against the SSE server, and the `$/progress` it sent per token."""

    client: LspClient
    progress: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    runs: int = 0

    @classmethod
    async def start(cls, base_url: str, timeout: float) -> LspChat:
        client = await LspClient.spawn([sys.executable, "-m", "cline_bridge", "serve"])
        chat = cls(client)
        client.notification_handlers["$/progress"] = chat._on_progress
        try:
            await client.initialize({"apiKey": "k", "apiBaseUrl": base_url}, timeout)
        except LspError as exc:
            await client.close()
            raise LspError(f"sidecar: {exc}\n{client.stderr_tail()}") from None
        return chat

    def _on_progress(self, params: Any) -> None:
        if isinstance(params, dict):
            self.progress.setdefault(params.get("token"), []).append(params.get("value") or {})

    async def run(self, timeout: float) -> ChatRun:
        self.runs += 1
        token = f"bench-{self.runs}"
        params = {"command": COMMAND, "arguments": [{"prompt": "bench"}], "workDoneToken": token}
        start = time.perf_counter()
        try:
            result = await self.client.request("workspace/executeCommand", params, timeout)
        except LspError as exc:
            raise LspError(f"sidecar: {exc}\n{self.client.stderr_tail()}") from None
        elapsed = time.perf_counter() - start
        values = self.progress.pop(token, [])
        reports = [value for value in values if value.get("kind") == "report"]
        return ChatRun(
            seconds=elapsed,
            notifications=len(values),
            reports=len(reports),
            text=result.get("text", "") if isinstance(result, dict) else repr(result),
            reported_text="".join(value.get("message") or "" for value in reports),
        )


@dataclass
class ChatSamples:
    lsp: list[ChatRun]
    direct_s: list[float]
    direct_text: str | None


async def measure(base_url: str, runs: int, warmups: int, timeout: float) -> ChatSamples:
    """Interleave `runs` chats over LSP with `runs` direct streams, after `warmups` of each."""
    sidecar = await LspChat.start(base_url, timeout)
    direct = ours_side(base_url, MODEL)
    lsp: list[ChatRun] = []
    direct_s: list[float] = []
    try:
        for round_no in range(warmups + runs):
            order: Sequence[str] = ("lsp", "direct") if round_no % 2 == 0 else ("direct", "lsp")
            for which in order:
                if which == "lsp":
                    chat = await sidecar.run(timeout)
                    if round_no >= warmups:
                        lsp.append(chat)
                else:
                    seconds = await _time(direct)
                    if round_no >= warmups:
                        direct_s.append(seconds)
    finally:
        await direct.close()
        await sidecar.client.close()
    return ChatSamples(lsp, direct_s, direct.last.text if direct.last else None)


async def _time(side: StreamSide) -> float:
    start = time.perf_counter()
    side.last = await side.consume()
    return time.perf_counter() - start


@dataclass(frozen=True)
class ChatResults:
    """Part 2 of the streaming benchmarks, as `run.py` prints it."""

    count: int
    samples: ChatSamples

    @property
    def lsp_s(self) -> Stats:
        return Stats.of([run.seconds for run in self.samples.lsp])

    @property
    def direct_s(self) -> Stats:
        return Stats.of(self.samples.direct_s)

    def rows(self) -> list[Row]:
        lsp, direct = self.lsp_s, self.direct_s
        return [
            Row("time to result, median (ms)", direct.median * MS, lsp.median * MS),
            Row("time to result, p90 (ms)", direct.p90 * MS, lsp.p90 * MS),
        ]

    def lines(self, runs: int, warmups: int) -> list[str]:
        sent = [run.notifications for run in self.samples.lsp]
        lines = [
            f"{COMMAND} over LSP with a workDoneToken (time to the response) against our client "
            f"in-process (time to its last event),",
            f"{self.count} deltas from the same server: {runs} runs each, interleaved, "
            f"after {warmups} warm-up(s)",
            "",
            *render(self.rows(), "direct", "lsp", width=WIDTH),
            f"$/progress notifications sent per chat (begin, reports, end) for {self.count} "
            f"deltas: median {statistics.median(sent):g}, min {min(sent)}, max {max(sent)}",
        ]
        return lines + self.notes()

    def notes(self) -> list[str]:
        notes = []
        expected = expected_text(self.count)
        mismatched = [run for run in self.samples.lsp if run.reported_text != run.text]
        if mismatched:
            notes.append(
                f"note: in {len(mismatched)} of {len(self.samples.lsp)} runs the joined report "
                "messages differ from the result's text"
            )
        else:
            notes.append("the joined report messages equal the result's text in every run")
        if any(run.text != expected for run in self.samples.lsp):
            notes.append(f"note: {COMMAND} returned a text that is not the stream's deltas")
        if self.samples.direct_text != expected:
            notes.append("note: our client's result text differs from the stream's deltas")
        return notes

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "rows": [row_json(row) for row in self.rows()],
            "lsp_s": asdict(self.lsp_s),
            "direct_s": asdict(self.direct_s),
            "notifications": [run.notifications for run in self.samples.lsp],
            "reports": [run.reports for run in self.samples.lsp],
            "reports_match_text": [run.reported_text == run.text for run in self.samples.lsp],
        }


async def run(
    server: SseServer, count: int, runs: int, warmups: int, timeout: float
) -> ChatResults:
    return ChatResults(count, await measure(server.base_url(count), runs, warmups, timeout))
