"""A bare control-endpoint client for the tests: raw frames in, frames out, nothing hidden."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.support.raw_peer import TIMEOUT, RawPeer


class RawControl(RawPeer):
    """A connection to a sidecar's control endpoint."""

    @classmethod
    async def open(cls, endpoint: str) -> RawControl:
        kind, _, where = endpoint.partition(":")
        if kind == "unix":
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(where), TIMEOUT)
        else:
            host, _, port = where.rpartition(":")
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, int(port)), TIMEOUT
            )
        return cls(reader, writer)

    async def initialize(self, token: str | None, **options: Any) -> dict[str, Any]:
        init: dict[str, Any] = dict(options)
        if token is not None:
            init["token"] = token
        return await self.request("initialize", {"processId": None, "initializationOptions": init})

    async def closed_by_peer(self) -> bool:
        """True once the sidecar has closed this connection (end of input within the timeout)."""
        try:
            data = await asyncio.wait_for(self.reader.read(), TIMEOUT)
        except (ConnectionError, asyncio.TimeoutError):
            return False
        return data == b"" or self.reader.at_eof()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
