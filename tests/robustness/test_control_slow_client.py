"""A script that subscribed to task events and then stopped reading (a paused pager, a hung
process): the sidecar drops it once it leaves ``MAX_UNREAD`` bytes unread, instead of keeping
every event for it, and serves every other client as before. The endpoint and its clients are
real sockets; only the command registry is a small one of the test's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.sidecar.commands import CommandRegistry
from cline_bridge.sidecar.control.endpoint import MAX_UNREAD, ControlEndpoint
from tests.support.raw_control import RawControl
from tests.support.raw_peer import TIMEOUT

EVENT = {"kind": "message", "text": "x" * (1024 * 1024)}
LAST = {"kind": "turnEnd"}


async def _status(arguments: Sequence[Any]) -> dict[str, str]:
    return {"name": "cline-bridge"}


@pytest.fixture
async def endpoint(tmp_path: Path) -> AsyncIterator[ControlEndpoint]:
    commands = CommandRegistry()
    commands.add("clineBridge.status", _status)
    endpoint = ControlEndpoint(commands, "unix")
    await endpoint.start(tmp_path / "control.sock")
    try:
        yield endpoint
    finally:
        await endpoint.close()


async def test_a_subscriber_that_stops_reading_is_dropped_and_the_others_served(
    endpoint: ControlEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    assert endpoint.address is not None
    reader = await RawControl.open(endpoint.address)
    stalled = await RawControl.open(endpoint.address)
    try:
        assert "result" in await reader.initialize(endpoint.token, subscribe=["taskEvents"])
        assert "result" in await stalled.initialize(endpoint.token, subscribe=["taskEvents"])
        sent = received = 0

        async def read_events() -> None:
            nonlocal received
            while True:
                message = await reader.read()
                received += message.get("method") == "clineBridge/taskEvent"
                if message.get("params") == LAST:
                    return

        reading = asyncio.ensure_future(read_events())
        # From here on `stalled` reads nothing: its events pile up in the sidecar.
        deadline = time.monotonic() + TIMEOUT
        while len(endpoint._connections) == 2 and time.monotonic() < deadline:
            endpoint.broadcast("clineBridge/taskEvent", EVENT)
            sent += 1
            await asyncio.sleep(0.01)
        endpoint.broadcast("clineBridge/taskEvent", LAST)
        sent += 1
        await asyncio.wait_for(reading, TIMEOUT)
        connections_left = len(endpoint._connections)
        status = await reader.execute("clineBridge.status")
    finally:
        await reader.close()
        await stalled.close()

    assert connections_left == 1, "the client that stopped reading was dropped"
    assert sent > MAX_UNREAD // len(EVENT["text"])
    assert received == sent, "the reading client got every event"
    assert status["result"] == {"name": "cline-bridge"}
    assert any("left 16 MiB of answers and events unread" in r.getMessage() for r in caplog.records)
