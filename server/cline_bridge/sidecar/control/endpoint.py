"""The control endpoint: scripts on this machine reach the sidecar's commands.

A Unix socket in the user's private runtime folder (TCP on 127.0.0.1 where there are no Unix
sockets), next to a discovery file that holds a random token. The Cline panel can run commands on
the user's machine, so only a client that read that token (the user's own processes, since the
folder is 0700 and the file 0600) gets in: its first request must be ``initialize`` with the
token, or it is answered -32005 and disconnected.

Clients speak the LSP base protocol (``wire.framing``) with the same ``workspace/executeCommand``
commands as the editor, run by the same registry (``sidecar.commands``). Framing is strict and
capped; anything malformed closes that connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from cline_bridge.wire import framing, names
from cline_bridge.wire.errors import BridgeError
from cline_bridge.wire.framing import FrameDecoder, FrameError
from cline_bridge.wire.peer import METHOD_NOT_FOUND, JsonRpcPeer

if TYPE_CHECKING:
    from pathlib import Path

    from cattrs import Converter

logger = logging.getLogger(__name__)

MAX_UNAUTHENTICATED_BODY = 64 * 1024
"""Body cap until ``initialize`` succeeded: nobody unauthenticated sends more."""
MAX_BODY = 64 * 1024 * 1024
"""Body cap afterwards: room for a few images sent inline as data URLs."""
INITIALIZE_TIMEOUT = 10.0
"""Seconds a new connection has to authenticate before it is closed."""
MAX_UNREAD = 16 * 1024 * 1024
"""Bytes of answers and task events a client may leave unread before it is disconnected. Requests
wait for a client's unread answers (``_serve``); task events to a subscriber do not, so a script
that stopped reading (a paused pager) would otherwise grow the sidecar's memory without end."""


@functools.cache
def _converter() -> Converter:
    """lsprotocol's converter, built on first use: building one takes 15-45 ms, which every
    sidecar would pay at start-up (pygls builds its own), and only ``$/progress`` to a control
    client needs it."""
    return get_converter()


class ControlProgress:
    """``$/progress`` to one control client (the ``ProgressSink`` of its requests)."""

    def __init__(self, connection: ControlConnection) -> None:
        self._connection = connection

    def _send(self, token: types.ProgressToken, value: Any) -> None:
        self._connection.notify(
            "$/progress", {"token": token, "value": _converter().unstructure(value)}
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
        self._decoder = FrameDecoder(MAX_UNAUTHENTICATED_BODY)
        self._peer = JsonRpcPeer(
            self._write,
            on_request=self._on_request,
            on_notification=self._on_notification,
        )
        self._cancels = CancelRegistry()
        self._tasks: set[asyncio.Task[None]] = set()
        self._exit = False
        self._closed = False
        self.subscribed = False

    def notify(self, method: str, params: Any) -> None:
        self._peer.notify(method, params)

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
        body = await framing.read_body(self._reader, self._decoder)
        if body is None:
            return False
        message = json.loads(body)
        if (
            not isinstance(message, dict)
            or message.get("method") != "initialize"
            or "id" not in message
        ):
            self._peer.respond_error(
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
            self._peer.respond_error(message["id"], _refusal("wrong or missing token"))
            return False
        subscribe = options.get("subscribe") if isinstance(options, dict) else None
        if isinstance(subscribe, list) and "taskEvents" in subscribe:
            self.subscribed = True
        self._peer.respond(
            message["id"],
            {
                "capabilities": {"executeCommandProvider": {"commands": self._commands.names()}},
                "serverInfo": {"name": names.SERVER_NAME, "version": __version__},
            },
        )
        self._decoder.max_body = MAX_BODY
        return True

    async def _serve(self) -> None:
        while not self._exit:
            body = await framing.read_body(self._reader, self._decoder)
            if body is None:
                return
            if not self._peer.receive(json.loads(body)):
                raise FrameError("a message must be a JSON object")
            # Stop reading from a client that does not read our answers.
            await self._writer.drain()

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "exit":
            self._exit = True
        elif method == "$/cancelRequest" and isinstance(params, dict):
            self._cancels.cancel_request(params.get("id"))
        elif method == types.WINDOW_WORK_DONE_PROGRESS_CANCEL and isinstance(params, dict):
            self._cancels.cancel_progress(params.get("token"))

    def _on_request(self, request_id: Any, method: str, params: Any) -> None:
        task = asyncio.ensure_future(self._answer(request_id, method, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request_id: Any, method: str, params: Any) -> None:
        if method == "shutdown":
            self._peer.respond(request_id, None)
            return
        if method != types.WORKSPACE_EXECUTE_COMMAND:
            self._peer.respond_error(
                request_id, {"code": METHOD_NOT_FOUND, "message": f"Method not found: {method}"}
            )
            return
        if not isinstance(params, dict) or not isinstance(params.get("command"), str):
            self._peer.respond_error(
                request_id,
                {"code": names.INVALID_PARAMS, "message": "params must be {command, arguments}"},
            )
            return
        context = RequestContext(
            work_done_token=params.get("workDoneToken"), progress=ControlProgress(self)
        )
        try:
            with serving(request_id, context, self._cancels):
                result = await self._commands.run(params["command"], params.get("arguments"))
        except BridgeError as error:
            self._peer.respond_error(request_id, error.to_response())
        else:
            self._peer.respond(request_id, result)

    def _write(self, message: dict[str, Any]) -> None:
        if self._closed or self._writer.is_closing():
            return
        self._writer.write(framing.encode(message))
        unread = self._writer.transport.get_write_buffer_size()
        if unread > MAX_UNREAD:
            logger.warning(
                "control client dropped: it left %d MiB of answers and events unread",
                unread // (1024 * 1024),
            )
            # Abort, not close: close would wait to write what the client does not read.
            self._writer.transport.abort()


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
            self._server = await asyncio.start_unix_server(self._accept, path=str(socket_path))
            os.chmod(socket_path, 0o600)
            self._socket_path = socket_path
            self.address = f"unix:{socket_path}"
        else:
            self._server = await asyncio.start_server(self._accept, host="127.0.0.1", port=0)
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
