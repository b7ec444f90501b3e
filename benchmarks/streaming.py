"""Streaming parse throughput: one SSE stream consumed by three clients, interleaved.

- floor: raw ``httpx.AsyncClient.stream`` + ``aiter_lines()`` + ``json.loads`` of each ``data:``
  line, no typed events: the least any httpx-based client can do;
- ours: ``ClineClient.stream_chat``, iterating every typed event;
- openai: the official SDK's ``chat.completions.create(..., stream=True)``, iterating every chunk.

Each side keeps one client (and its keep-alive connection) for all its runs, so a run times the
request and the whole stream, not the client's construction.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from measures import Stats
from sse_server import MODEL, SseServer, expected_text, payload_size
from table import Row, render, row_json

MESSAGES = [{"role": "user", "content": "bench"}]
OURS_TARGET = 2.0
"""ours / floor: at most this."""
OPENAI_TARGET = 10.0
"""openai / ours: at least this."""
MS = 1e3
WIDTH = 28


@dataclass(frozen=True)
class Consumed:
    """What one run of a side saw: items iterated, and the answer text where the side builds it."""

    items: int
    text: str | None = None


Consume = Callable[[], Awaitable[Consumed]]


@dataclass
class Side:
    label: str
    consume: Consume
    close: Callable[[], Awaitable[None]]
    last: Consumed | None = None


def floor_side(base_url: str, model: str) -> Side:
    http = httpx.AsyncClient(timeout=60.0)
    url = base_url + "/chat/completions"
    body = {"model": model, "messages": MESSAGES, "stream": True}

    async def consume() -> Consumed:
        items = 0
        loads = json.loads
        async with http.stream("POST", url, json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    loads(data)
                    items += 1
        return Consumed(items)

    return Side("floor", consume, http.aclose)


def ours_side(base_url: str, model: str) -> Side:
    from cline_bridge.api.cline_client import ClineClient

    client = ClineClient(api_key="k", base_url=base_url, max_retries=0)

    async def consume() -> Consumed:
        items = 0
        async with client.stream_chat(model=model, messages=MESSAGES) as stream:
            async for _ in stream:
                items += 1
        return Consumed(items, stream.result.text if stream.result else None)

    return Side("ours", consume, client.aclose)


def openai_side(base_url: str, model: str) -> Side:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionUserMessageParam

    client = AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0)
    message: ChatCompletionUserMessageParam = {"role": "user", "content": "bench"}

    async def consume() -> Consumed:
        items = 0
        stream = await client.chat.completions.create(
            model=model,
            messages=[message],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for _ in stream:
            items += 1
        return Consumed(items)

    return Side("openai", consume, client.close)


async def interleaved(sides: Sequence[Side], runs: int, warmups: int) -> list[list[float]]:
    """Seconds per run: per round every side once, the order rotating each round."""
    samples: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    clock = time.perf_counter
    for round_no in range(warmups + runs):
        for index in order:
            side = sides[index]
            start = clock()
            side.last = await side.consume()
            elapsed = clock() - start
            if round_no >= warmups:
                samples[index].append(elapsed)
        order = order[1:] + order[:1]
    return samples


async def measure(
    base_url: str, model: str, runs: int, warmups: int, *, with_openai: bool = True
) -> dict[str, Series]:
    """Run the sides on the stream at `base_url`, interleaved: what each timed and saw."""
    sides = [floor_side(base_url, model), ours_side(base_url, model)]
    if with_openai and openai_installed():
        sides.append(openai_side(base_url, model))
    try:
        samples = await interleaved(sides, runs, warmups)
    finally:
        for side in sides:
            await side.close()
    return {
        side.label: Series(Stats.of(series), side.last)
        for side, series in zip(sides, samples, strict=True)
    }


def openai_installed() -> bool:
    """The SDK is a dev extra: without it the table has no openai row."""
    return importlib.util.find_spec("openai") is not None


@dataclass(frozen=True)
class Series:
    seconds: Stats
    last: Consumed | None


@dataclass(frozen=True)
class StreamResults:
    """Part 1 of the streaming benchmarks, as `run.py` prints it."""

    count: int
    payload_bytes: int
    sides: dict[str, Series]
    per_event: dict[str, Series]

    def rows(self) -> list[Row]:
        floor, ours = self.sides["floor"].seconds, self.sides["ours"].seconds
        rows = [Row("ours vs floor, median (ms)", floor.median * MS, ours.median * MS, OURS_TARGET)]
        if "openai" in self.sides:
            openai = self.sides["openai"].seconds
            rows.append(
                Row(
                    "openai vs ours, median (ms)",
                    ours.median * MS,
                    openai.median * MS,
                    OPENAI_TARGET,
                    at_least=True,
                )
            )
        return rows

    def lines(self, runs: int, warmups: int) -> list[str]:
        chunks = self.count + 1
        rates = ", ".join(
            f"{label} {chunks / series.seconds.median / 1e3:.1f}k"
            for label, series in self.sides.items()
        )
        lines = [
            f"streaming parse: {self.count} content deltas + a final chunk "
            f"({self.payload_bytes / 1e6:.1f} MB of SSE) from a local server in 64 KiB HTTP chunks",
            f"floor (httpx aiter_lines + json.loads), ours (ClineClient.stream_chat), openai "
            f"(AsyncOpenAI): {runs} runs each, interleaved, after {warmups} warm-up(s)",
            "",
            *render(self.rows(), width=WIDTH),
            f"chunks/s: {rates}",
        ]
        if "openai" in self.sides:
            ratio = self.sides["openai"].seconds.median / self.sides["floor"].seconds.median
            lines.append(f"reference: openai vs floor {ratio:.1f} (the issue measured about 22)")
        else:
            lines.append("note: the openai SDK is not installed (pip install -e '.[dev]')")
        if self.per_event:
            floor, ours = self.per_event["floor"].seconds, self.per_event["ours"].seconds
            lines.append(
                "reference: one HTTP chunk per SSE event (a gateway flushing every token): "
                f"floor {floor.median * MS:.1f} ms, ours {ours.median * MS:.1f} ms, "
                f"ratio {ours.median / floor.median:.2f}"
            )
        return lines + self.notes()

    def notes(self) -> list[str]:
        """Warn when a side did not see the whole stream."""
        expected = {"floor": self.count + 1, "ours": self.count + 2, "openai": self.count + 1}
        notes = []
        for label, series in [*self.sides.items(), *self.per_event.items()]:
            seen = series.last.items if series.last else 0
            if seen != expected[label]:
                notes.append(f"note: {label} iterated {seen} items, expected {expected[label]}")
        ours = self.sides["ours"].last
        if ours is None or ours.text != expected_text(self.count):
            notes.append("note: our client's result text differs from the stream's deltas")
        return notes

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "payload_bytes": self.payload_bytes,
            "rows": [row_json(row) for row in self.rows()],
            "seconds": {label: asdict(series.seconds) for label, series in self.sides.items()},
            "per_event_seconds": {
                label: asdict(series.seconds) for label, series in self.per_event.items()
            },
        }


async def run(server: SseServer, count: int, runs: int, warmups: int) -> StreamResults:
    """Part 1: the three sides on 64 KiB HTTP chunks, then floor and ours on per-event chunks."""
    sides = await measure(server.base_url(count), MODEL, runs, warmups)
    per_event = await measure(
        server.base_url(count, per_event=True), MODEL, runs, warmups, with_openai=False
    )
    return StreamResults(count, payload_size(count), sides, per_event)
