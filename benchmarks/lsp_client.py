"""A minimal JSON-RPC LSP client for benchmarks, over a server's stdio or over a socket.

Both sides of every comparison are driven by this one client, so its own cost cancels out of the
ratios. It frames messages with `Content-Length`, matches responses to request ids, answers
server→client requests from a handler table, passes the notifications a caller asked for (such as
`$/progress`) to theirs and drops the others (`window/logMessage`, ...). `spawn` starts a server
and talks to it over its stdin and stdout; `connect_unix` talks to a server already listening on a
Unix socket (the sidecar's control endpoint) with the same framing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

Handler = Callable[[Any], Any]

METHOD_NOT_FOUND = -32601


class LspError(Exception):
    """A JSON-RPC error response, or a server that died or did not answer in time."""


class LspClient:
    """The client end of one connection: a server process's stdio pipes, or a socket.

    With `proc` the client owns that process: `close` ends it (and kills it if it does not exit).
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        proc: asyncio.subprocess.Process | None = None,
        stderr: IO[bytes] | None = None,
    ) -> None:
        self.proc = proc
        self.handlers: dict[str, Handler] = {}
        self.notification_handlers: dict[str, Callable[[Any], None]] = {}
        self._in = reader
        self._out = writer
        self._stderr = stderr
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def spawn(
        cls, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None
    ) -> LspClient:
        """Start `argv` with piped stdin/stdout; stderr goes to a temporary file."""
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the client; close()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=cwd,
        )
        assert proc.stdout is not None
        assert proc.stdin is not None
        return cls(proc.stdout, proc.stdin, proc, stderr)

    @classmethod
    async def connect_unix(cls, path: str, timeout: float = 10.0) -> LspClient:
        """Connect to a server listening on the Unix socket `path`."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), timeout)
        except (OSError, asyncio.TimeoutError) as exc:  # not the builtin before Python 3.11
            raise LspError(f"cannot connect to {path}: {exc or 'timed out'}") from None
        return cls(reader, writer)

    async def request(self, method: str, params: Any = None, timeout: float = 10.0) -> Any:
        """Send a request and return its result; raise `LspError` on an error or a timeout."""
        if self._reader.done():
            raise LspError(f"{method}: the connection to the server is closed")
        self._next_id += 1
        msg_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            raise LspError(f"{method}: no answer within {timeout} s") from None
        finally:
            self._pending.pop(msg_id, None)

    async def pipeline(
        self, method: str, params: Sequence[Any], timeout: float = 10.0
    ) -> list[Any]:
        """Send one request per item of `params` in a single write, then wait for every result.

        Raise `LspError` on the first error response, or if they are not all answered in time.
        """
        if self._reader.done():
            raise LspError(f"{method}: the connection to the server is closed")
        loop = asyncio.get_running_loop()
        first_id = self._next_id + 1
        futures: list[asyncio.Future[Any]] = []
        frames: list[bytes] = []
        for item in params:
            self._next_id += 1
            future: asyncio.Future[Any] = loop.create_future()
            self._pending[self._next_id] = future
            futures.append(future)
            frames.append(
                _frame({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": item})
            )

        async def send_and_wait() -> list[Any]:
            self._out.write(b"".join(frames))
            await self._out.drain()
            return await asyncio.gather(*futures)

        try:
            return await asyncio.wait_for(send_and_wait(), timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            answered = sum(future.done() and not future.cancelled() for future in futures)
            raise LspError(
                f"{method}: {answered} of {len(futures)} pipelined requests answered "
                f"within {timeout} s"
            ) from None
        finally:
            for future in futures:
                future.cancel()  # no-op once done; keeps a failed gather's others quiet
            for msg_id in range(first_id, first_id + len(futures)):
                self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def initialize(
        self, options: Any = None, timeout: float = 30.0, root_uri: str | None = None
    ) -> Any:
        """Run `initialize` (returning its result) and send `initialized`."""
        params = {
            "processId": None,
            "rootUri": root_uri,
            "capabilities": {},
            "initializationOptions": options,
        }
        result = await self.request("initialize", params, timeout)
        await self.notify("initialized", {})
        return result

    async def close(self, timeout: float = 5.0) -> None:
        """`shutdown` and `exit`, then close the connection; a process of ours that has not
        exited within `timeout` is killed."""
        if not self._reader.done():
            with contextlib.suppress(LspError, OSError, ConnectionError):
                await self.request("shutdown", None, timeout)
                await self.notify("exit")
        if self.proc is not None:
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.proc.wait(), timeout)
        self._out.close()
        with contextlib.suppress(OSError, ConnectionError, asyncio.TimeoutError):
            await asyncio.wait_for(self._out.wait_closed(), timeout)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        if self._stderr is not None:
            self._stderr.close()

    def stop_reading(self) -> None:
        """Play an editor that stops reading the server's output: nothing more is taken from the
        connection until `read_again`, so the server's writes fill the pipe and then wait."""
        self._transport().pause_reading()

    def read_again(self) -> None:
        self._transport().resume_reading()

    def _transport(self) -> asyncio.ReadTransport:
        # StreamReader keeps its transport private; pausing it (not the reader) leaves the
        # reader's own flow control alone, so it cannot resume reading behind our back.
        transport = getattr(self._in, "_transport", None)
        if not isinstance(transport, asyncio.ReadTransport):
            raise LspError("this connection cannot stop reading")
        return transport

    def stderr_tail(self, limit: int = 2000) -> str:
        """The end of what the server wrote to stderr, for error reports."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def _send(self, message: dict[str, Any]) -> None:
        # Never waits for the buffer to drain. An editor keeps reading while its writes are
        # pending, and so must this client: a read loop that stopped to drain its answers would
        # deadlock, once both pipes are full, against a server whose writes block (pygls writes
        # stdout synchronously). The waits that could last for good are waits for answers, and
        # they have a timeout.
        self._out.write(_frame(message))

    async def _read_loop(self) -> None:
        stream = self._in
        try:
            while True:
                header = await stream.readuntil(b"\r\n\r\n")
                length = _content_length(header)
                self._dispatch(json.loads(await stream.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            self._fail_pending(LspError("the server closed the connection"))
        except (LspError, ValueError) as exc:  # bad framing or JSON: stop reading
            self._fail_pending(LspError(f"unreadable message from the server: {exc}"))

    def _fail_pending(self, error: LspError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def _dispatch(self, message: dict[str, Any]) -> None:
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
            self._answer(message["id"], method, message.get("params"))
        elif (on_notification := self.notification_handlers.get(method)) is not None:
            on_notification(message.get("params"))

    def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        handler = self.handlers.get(method)
        if handler is None:
            error = {"code": METHOD_NOT_FOUND, "message": f"no handler for {method}"}
            self._send({"jsonrpc": "2.0", "id": msg_id, "error": error})
        else:
            self._send({"jsonrpc": "2.0", "id": msg_id, "result": handler(params)})


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _content_length(header: bytes) -> int:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise LspError(f"no Content-Length in header {header!r}")
