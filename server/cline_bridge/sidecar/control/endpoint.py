"""The control endpoint: scripts on this machine reach the sidecar's commands.

A Unix socket in the user's private runtime folder (TCP on 127.0.0.1 where there are no Unix
sockets), next to a discovery file that holds a random token. The Cline panel can run commands on
the user's machine, so only a client that read that token (the user's own processes, since the
folder is 0700 and the file 0600) gets in: its first request must be ``initialize`` with the
token, or it is answered -32005 and disconnected.

Clients speak the LSP base protocol with the same ``workspace/executeCommand`` commands as the
editor. Framing is strict and capped; anything malformed closes that connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from cline_bridge import __version__
from cline_bridge.sidecar.commands import CommandRegistry, serving
from cline_bridge.sidecar.request_context import CancelRegistry, RequestContext
from cline_bridge.wire import names
from cline_bridge.wire.errors import BridgeError

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

MAX_HEADER_BYTES = 8 * 1024
"""The most a frame's header block may hold."""
MAX_UNAUTHENTICATED_BODY = 64 * 1024
"""Body cap until ``initialize`` succeeded: nobody unauthenticated sends more."""
MAX_BODY = 64 * 1024 * 1024
"""Body cap afterwards: room for a few images sent inline as data URLs."""
INITIALIZE_TIMEOUT = 10.0
"""Seconds a new connection has to authenticate before it is closed."""

_converter = get_converter()


class FrameError(Exception):
    """The peer broke the framing; its connection is closed."""


async def read_frame(reader: asyncio.StreamReader, max_body: int) -> bytes | None:
    """One LSP base-protocol frame's body, or None at a clean end of input."""
    try:
        header = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise FrameError("connection closed inside a header") from None
    except asyncio.LimitOverrunError:
        raise FrameError("header too long") from None
    length = None
    for line in header[:-4].split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise FrameError("malformed header line")
        name = name.strip().lower()
        if name == b"content-length":
            if not value.strip().isdigit():
                raise FrameError("Content-Length is not a number")
            length = int(value)
        elif name != b"content-type":
            raise FrameError("unknown header")
    if length is None:
        raise FrameError("no Content-Length")
    if length > max_body:
        raise FrameError(f"Content-Length {length} is over the cap of {max_body}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise FrameError("connection closed inside a body") from None


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class ControlProgress:
    """``$/progress`` to one control client (the ``ProgressSink`` of its requests)."""

    def __init__(self, connection: ControlConnection) -> None:
        self._connection = connection

    def _send(self, token: types.ProgressToken, value: Any) -> None:
        self._connection.notify(
            "$/progress", {"token": token, "value": _converter.unstructure(value)}
        )

    begin = report = end = _send


class ControlConnection:
    """One script's connection: authenticate, then run commands concurrently.

    Commands start in the order they arrive; the task commands keep that order up to the host.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        token: str,
        commands: CommandRegistry,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._token = token
        self._commands = commands
        self._cancels = CancelRegistry()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.subscribed = False

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def run(self) -> None:
        try:
            if await asyncio.wait_for(self._authenticate(), INITIALIZE_TIMEOUT):
                await self._serve()
        except (FrameError, ValueError) as error:
            logger.warning("control client dropped: %s", error)
        except asyncio.TimeoutError:
            logger.warning("control client dropped: no initialize within %gs", INITIALIZE_TIMEOUT)
        except ConnectionError:
            pass
        finally:
            await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    async def _authenticate(self) -> bool:
        body = await read_frame(self._reader, MAX_UNAUTHENTICATED_BODY)
        if body is None:
            return False
        message = json.loads(body)
        if (
            not isinstance(message, dict)
            or message.get("method") != "initialize"
            or "id" not in message
        ):
            self._reply_error(
                message.get("id") if isinstance(message, dict) else None,
                _refusal("the first request must be initialize"),
            )
            return False
        params = message.get("params")
        options = params.get("initializationOptions") if isinstance(params, dict) else None
        given = options.get("token") if isinstance(options, dict) else None
        if not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), self._token.encode()
        ):
            logger.warning("control client refused: wrong or missing token")
            self._reply_error(message["id"], _refusal("wrong or missing token"))
            return False
        subscribe = options.get("subscribe") if isinstance(options, dict) else None
        if isinstance(subscribe, list) and "taskEvents" in subscribe:
            self.subscribed = True
        self._reply(
            message["id"],
            {
                "capabilities": {"executeCommandProvider": {"commands": self._commands.names()}},
                "serverInfo": {"name": names.SERVER_NAME, "version": __version__},
            },
        )
        return True

    async def _serve(self) -> None:
        while (body := await read_frame(self._reader, MAX_BODY)) is not None:
            message = json.loads(body)
            if not isinstance(message, dict):
                raise FrameError("a message must be a JSON object")
            method = message.get("method")
            if method is None:
                continue  # a response: we send no requests to scripts
            if "id" not in message:
                if self._notification(method, message.get("params")):
                    return
                continue
            self._start_request(message["id"], method, message.get("params"))
            await self._writer.drain()

    def _notification(self, method: Any, params: Any) -> bool:
        """Handle a notification; True when the client said ``exit``."""
        if method == "exit":
            return True
        if method == "$/cancelRequest" and isinstance(params, dict):
            self._cancels.cancel_request(params.get("id"))
        elif method == types.WINDOW_WORK_DONE_PROGRESS_CANCEL and isinstance(params, dict):
            self._cancels.cancel_progress(params.get("token"))
        return False

    def _start_request(self, request_id: Any, method: Any, params: Any) -> None:
        task = asyncio.ensure_future(self._answer(request_id, method, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request_id: Any, method: Any, params: Any) -> None:
        if method == "shutdown":
            self._reply(request_id, None)
            return
        if method != types.WORKSPACE_EXECUTE_COMMAND:
            self._reply_error(
                request_id, {"code": -32601, "message": f"Method not found: {method}"}
            )
            return
        if not isinstance(params, dict) or not isinstance(params.get("command"), str):
            self._reply_error(
                request_id, {"code": -32602, "message": "params must be {command, arguments}"}
            )
            return
        context = RequestContext(
            work_done_token=params.get("workDoneToken"), progress=ControlProgress(self)
        )
        try:
            with serving(request_id, context, self._cancels):
                result = await self._commands.run(params["command"], params.get("arguments"))
        except BridgeError as error:
            self._reply_error(request_id, error.to_response())
        else:
            self._reply(request_id, result)

    def _reply(self, request_id: Any, result: Any) -> None:
        self._write({"jsonrpc": "2.0", "id": request_id, "result": result})

    def _reply_error(self, request_id: Any, error: dict[str, Any]) -> None:
        if error.get("data") is None:
            error = {k: v for k, v in error.items() if k != "data"}
        self._write({"jsonrpc": "2.0", "id": request_id, "error": error})

    def _write(self, message: dict[str, Any]) -> None:
        if not self._closed and not self._writer.is_closing():
            self._writer.write(frame(message))


def _refusal(reason: str) -> dict[str, Any]:
    return {"code": names.NOT_AUTHORISED, "message": f"not authorised: {reason}"}


class ControlEndpoint:
    """The listening side: one per sidecar. ``start`` returns the endpoint's address."""

    def __init__(self, commands: CommandRegistry, transport: str) -> None:
        self.token = secrets.token_urlsafe(32)
        self._commands = commands
        self._transport = transport
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[ControlConnection] = set()
        self.address: str | None = None
        self._socket_path: Path | None = None

    async def start(self, socket_path: Path) -> str:
        if self._transport == "unix":
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()  # noqa: ASYNC240 - a local unlink, instant
            self._server = await asyncio.start_unix_server(
                self._accept, path=str(socket_path), limit=MAX_HEADER_BYTES
            )
            os.chmod(socket_path, 0o600)
            self._socket_path = socket_path
            self.address = f"unix:{socket_path}"
        else:
            self._server = await asyncio.start_server(
                self._accept, host="127.0.0.1", port=0, limit=MAX_HEADER_BYTES
            )
            port = self._server.sockets[0].getsockname()[1]
            self.address = f"tcp:127.0.0.1:{port}"
        return self.address

    def broadcast(self, method: str, params: Any) -> None:
        """Send a notification to every client that subscribed to task events."""
        for connection in list(self._connections):
            if connection.subscribed:
                connection.notify(method, params)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            await connection.close()
        if self._socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._socket_path.unlink()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = ControlConnection(reader, writer, self.token, self._commands)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
