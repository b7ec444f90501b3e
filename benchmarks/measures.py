"""The two measurements: cold start (spawn → `initialize` response) and command round trip."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lsp_client import LspClient, LspError


@dataclass(frozen=True)
class Side:
    """One column of the table: how to start a server and which command to time on it."""

    label: str
    argv: Sequence[str]
    options: dict[str, Any] | None
    command: str
    arguments: list[Any]
    handlers: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] | None = None
    """The server's environment (None: this process's)."""
    cwd: str | None = None


@dataclass(frozen=True)
class Stats:
    """Summary of one series of samples (same unit as the samples)."""

    median: float
    p90: float
    p99: float
    count: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        ordered = sorted(samples)
        return cls(
            median=percentile(ordered, 0.5),
            p90=percentile(ordered, 0.9),
            p99=percentile(ordered, 0.99),
            count=len(ordered),
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted samples, interpolating linearly between ranks."""
    rank = (len(ordered) - 1) * q
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def cold_start_once(side: Side, timeout: float) -> float:
    """Seconds from spawning the server to receiving its `initialize` response."""
    start = time.perf_counter()
    client = await LspClient.spawn(side.argv, side.env, side.cwd)
    try:
        await client.initialize(side.options, timeout)
        elapsed = time.perf_counter() - start
    except LspError as exc:
        raise LspError(f"{side.label}: {exc}\n{client.stderr_tail()}") from None
    finally:
        await client.close()
    return elapsed


async def cold_start(
    sides: Sequence[Side], runs: int, warmups: int, timeout: float
) -> list[list[float]]:
    """Interleaved cold starts: per round every side once, the order flipping each round."""
    samples: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    for round_no in range(warmups + runs):
        for index in order:
            elapsed = await cold_start_once(sides[index], timeout)
            if round_no >= warmups:
                samples[index].append(elapsed)
        order.reverse()
    return samples


class RoundTrip:
    """A started, initialized server on which one command is timed repeatedly."""

    def __init__(self, side: Side, client: LspClient) -> None:
        self.side = side
        self.client = client
        self.last_result: Any = None
        self.server_requests = 0
        for method, reply in side.handlers.items():
            client.handlers[method] = self._counting(reply)

    @classmethod
    async def start(cls, side: Side, timeout: float) -> RoundTrip:
        client = await LspClient.spawn(side.argv, side.env, side.cwd)
        trip = cls(side, client)
        try:
            await client.initialize(side.options, timeout)
            await trip.time(1, timeout)
        except LspError as exc:
            await client.close()
            raise LspError(f"{side.label}: {exc}\n{client.stderr_tail()}") from None
        return trip

    async def time(self, count: int, timeout: float) -> list[float]:
        """Run the command `count` times in sequence; the latency of each in seconds."""
        params = {"command": self.side.command, "arguments": self.side.arguments}
        request = self.client.request
        clock = time.perf_counter
        latencies: list[float] = []
        for _ in range(count):
            start = clock()
            self.last_result = await request("workspace/executeCommand", params, timeout)
            latencies.append(clock() - start)
        return latencies

    def _counting(self, reply: Any) -> Any:
        def handler(params: Any) -> Any:
            self.server_requests += 1
            return reply

        return handler


async def round_trips(
    trips: Sequence[RoundTrip], count: int, warmups: int, block: int, timeout: float
) -> list[list[float]]:
    """Alternate blocks of `block` sequential requests per server until each has `count`."""
    for trip in trips:
        await trip.time(warmups, timeout)
    samples: list[list[float]] = [[] for _ in trips]
    order = list(range(len(trips)))
    while len(samples[0]) < count:
        size = min(block, count - len(samples[0]))
        for index in order:
            samples[index].extend(await trips[index].time(size, timeout))
        order.reverse()
    return samples
