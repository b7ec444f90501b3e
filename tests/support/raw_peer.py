"""A bare JSON-RPC client over a sidecar's stdio, for what a well-behaved LSP client cannot send:
malformed frames, invalid JSON, and byte-exact checks of what the sidecar writes to stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from tests.support.sidecar import SERVER_COMMAND

TIMEOUT = 10.0

started_sidecars: list[RawSidecar] = []
"""Every sidecar ``raw_sidecar`` started, for checks over a whole test (the robustness tier's
secret canary); whoever checks clears it."""


def frame_bytes(body: bytes) -> bytes:
    """``body`` framed with the LSP base protocol's Content-Length header."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def frame(message: dict[str, Any]) -> bytes:
    return frame_bytes(json.dumps(message).encode())


class RawPeer:
    """JSON-RPC over a reader and a writer, framed by hand. Every read is bounded by ``TIMEOUT``
    and fails the test if the peer writes anything but LSP frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.notifications: list[dict[str, Any]] = []
        self.transcript: list[dict[str, Any]] = []
        """Every message read from the peer, in order."""
        self._next_id = 0

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_bytes(self, body: bytes) -> None:
        await self.send_raw(frame_bytes(body))

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_raw(frame(message))

    async def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """Send a request and return its response, keeping notifications met on the way."""
        self._next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return await self.response_to(self._next_id)

    async def response_to(self, request_id: int | str) -> dict[str, Any]:
        while True:
            message = await self.read()
            if "id" not in message:
                self.notifications.append(message)
            elif message["id"] == request_id and "method" not in message:
                return message

    async def read(self) -> dict[str, Any]:
        headers = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        length = None
        for line in headers.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            else:
                assert name.lower() in ("content-type", ""), f"unexpected header {line!r}"
        assert length is not None, f"frame without Content-Length: {headers!r}"
        body = await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        message: dict[str, Any] = json.loads(body)
        self.transcript.append(message)
        return message

    async def execute(self, command: str, *arguments: Any, **params: Any) -> dict[str, Any]:
        return await self.request(
            "workspace/executeCommand", {"command": command, "arguments": list(arguments), **params}
        )


class RawSidecar(RawPeer):
    """A sidecar's stdio: stdout must hold nothing but LSP frames."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        assert process.stdin is not None
        super().__init__(process.stdout, process.stdin)
        self.process = process
        self.log = bytearray()
        """What the sidecar wrote to stderr, as far as ``read_log`` has read it."""

    async def read_log(self) -> str:
        """Read stderr to its end (the sidecar's exit), within ``TIMEOUT``; return all of it."""
        assert self.process.stderr is not None
        self.log += await asyncio.wait_for(self.process.stderr.read(), TIMEOUT)
        return self.log.decode(errors="replace")

    async def initialize(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        params = {"processId": None, "rootUri": None, "capabilities": {}}
        if options is not None:
            params["initializationOptions"] = options
        response = await self.request("initialize", params)
        await self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return response


@contextlib.asynccontextmanager
async def raw_sidecar(
    command: Sequence[str] = SERVER_COMMAND, env: Mapping[str, str] | None = None
) -> AsyncIterator[RawSidecar]:
    """Start a sidecar; at the end make sure its process is gone (killed by pid if need be)."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    sidecar = RawSidecar(process)
    started_sidecars.append(sidecar)
    try:
        yield sidecar
    finally:
        if process.returncode is None:
            process.kill()
        await asyncio.wait_for(process.wait(), TIMEOUT)
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            await sidecar.read_log()  # the rest of it, for whoever checks it afterwards


async def stop(sidecar: RawSidecar) -> str:
    """End ``sidecar`` as an editor does (``shutdown``, ``exit``), so that it writes out every log
    line it has queued; return its whole log."""
    await sidecar.request("shutdown")
    await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
    assert await asyncio.wait_for(sidecar.process.wait(), TIMEOUT) == 0
    return await sidecar.read_log()
