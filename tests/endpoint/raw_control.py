"""A bare control-endpoint client for the tests: raw frames in, frames out, nothing hidden."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from tests.lsp.raw_stdio import frame

TIMEOUT = 10.0


class RawControl:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.notifications: list[dict[str, Any]] = []
        self._next_id = 0

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

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(self, method: str, params: Any = None) -> dict[str, Any]:
        self._next_id += 1
        await self.send_raw(
            frame({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        )
        return await self.response_to(self._next_id)

    async def response_to(self, request_id: int) -> dict[str, Any]:
        while True:
            message = await self.read()
            if "id" not in message:
                self.notifications.append(message)
            elif message["id"] == request_id:
                return message

    async def read(self) -> dict[str, Any]:
        header = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        length = int(header.split(b":", 1)[1].split(b"\r\n", 1)[0])
        body = await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        message: dict[str, Any] = json.loads(body)
        return message

    async def initialize(self, token: str | None, **options: Any) -> dict[str, Any]:
        init: dict[str, Any] = dict(options)
        if token is not None:
            init["token"] = token
        return await self.request("initialize", {"processId": None, "initializationOptions": init})

    async def execute(self, command: str, *arguments: Any, **params: Any) -> dict[str, Any]:
        return await self.request(
            "workspace/executeCommand", {"command": command, "arguments": list(arguments), **params}
        )

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
