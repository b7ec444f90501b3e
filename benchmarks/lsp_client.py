"""A minimal JSON-RPC-over-stdio LSP client for benchmarks.

Both sides of every comparison are driven by this one client, so its own cost cancels out of the
ratios. It frames messages with `Content-Length`, matches responses to request ids, answers
server→client requests from a handler table, passes the notifications a caller asked for (such as
`$/progress`) to theirs and drops the others (`window/logMessage`, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Sequence
from typing import IO, Any

Handler = Callable[[Any], Any]

METHOD_NOT_FOUND = -32601


class LspError(Exception):
    """A JSON-RPC error response, or a server that died or did not answer in time."""


class LspClient:
    """One server process and the client end of its stdio pipes."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: IO[bytes]) -> None:
        self.proc = proc
        self.handlers: dict[str, Handler] = {}
        self.notification_handlers: dict[str, Callable[[Any], None]] = {}
        self._stderr = stderr
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def spawn(cls, argv: Sequence[str]) -> LspClient:
        """Start `argv` with piped stdin/stdout; stderr goes to a temporary file."""
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the client; close()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        return cls(proc, stderr)

    async def request(self, method: str, params: Any = None, timeout: float = 10.0) -> Any:
        """Send a request and return its result; raise `LspError` on an error or a timeout."""
        if self._reader.done():
            raise LspError(f"{method}: the connection to the server is closed")
        self._next_id += 1
        msg_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        await self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            raise LspError(f"{method}: no answer within {timeout} s") from None
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def initialize(self, options: Any = None, timeout: float = 30.0) -> Any:
        """Run `initialize` (returning its result) and send `initialized`."""
        params = {
            "processId": None,
            "rootUri": None,
            "capabilities": {},
            "initializationOptions": options,
        }
        result = await self.request("initialize", params, timeout)
        await self.notify("initialized", {})
        return result

    async def close(self, timeout: float = 5.0) -> None:
        """`shutdown` and `exit`; kill the process if it has not exited within `timeout`."""
        with contextlib.suppress(LspError, OSError, ConnectionError):
            await self.request("shutdown", None, timeout)
            await self.notify("exit")
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), timeout)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self._stderr.close()

    def stderr_tail(self, limit: int = 2000) -> str:
        """The end of what the server wrote to stderr, for error reports."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    async def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await stdin.drain()

    async def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = _content_length(header)
                await self._dispatch(json.loads(await stdout.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            self._fail_pending(LspError("the server closed its stdout"))
        except (LspError, ValueError) as exc:  # bad framing or JSON: stop reading
            self._fail_pending(LspError(f"unreadable message from the server: {exc}"))

    def _fail_pending(self, error: LspError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            future = self._pending.get(message.get("id", -1))
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(LspError(json.dumps(message["error"])))
            else:
                future.set_result(message.get("result"))
        elif "id" in message:
            await self._answer(message["id"], method, message.get("params"))
        elif (on_notification := self.notification_handlers.get(method)) is not None:
            on_notification(message.get("params"))

    async def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        handler = self.handlers.get(method)
        if handler is None:
            error = {"code": METHOD_NOT_FOUND, "message": f"no handler for {method}"}
            await self._send({"jsonrpc": "2.0", "id": msg_id, "error": error})
        else:
            await self._send({"jsonrpc": "2.0", "id": msg_id, "result": handler(params)})


def _content_length(header: bytes) -> int:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise LspError(f"no Content-Length in header {header!r}")
