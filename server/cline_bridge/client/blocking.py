"""Blocking calls to a running bridge: connect, run one command, leave.

For one-line scripts and the one-shot CLI commands (``cline-bridge approve`` and the like). One
command needs no event loop: a blocking socket with a deadline on every wait does, and leaves
asyncio unloaded, which is most of what such a command would otherwise spend before it reaches
the bridge. It speaks exactly what ``Bridge`` speaks (``session``, ``wire``), one request at a
time; for task events, streamed chats or overlapping requests use ``Bridge``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time

from cline_bridge.client import session
from cline_bridge.client.session import COMMAND_TIMEOUT, CONNECT_TIMEOUT
from cline_bridge.wire import framing, names
from cline_bridge.wire.discovery import TcpEndpoint, parse_endpoint, select_bridge
from cline_bridge.wire.errors import BridgeConnectionError, BridgeError, BridgeTimeoutError
from cline_bridge.wire.framing import FrameDecoder, FrameError
from cline_bridge.wire.peer import JsonRpcPeer

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from pathlib import Path
    from types import TracebackType
    from typing import Any

    from cline_bridge.client.session import Images
    from cline_bridge.wire.discovery import DiscoveryRecord


class _Reply:
    """Where the answer to the request being waited for lands."""

    __slots__ = ("_done", "_error", "_result")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Any) -> None:
        self._done, self._result = True, result

    def set_exception(self, exception: BaseException) -> None:
        self._done, self._error = True, exception

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


class BridgeConnection:
    """A blocking connection to a running bridge's control endpoint.

    ``with BridgeConnection.open() as bridge: bridge.execute_command(...)``. Every wait has a
    deadline; a request that outlives it is cancelled on the bridge and raises
    ``BridgeTimeoutError``. Errors are the ``BridgeError`` classes ``Bridge`` raises.
    """

    def __init__(self, sock: socket.socket, path: Path, record: DiscoveryRecord) -> None:
        """Internal: use ``BridgeConnection.open``."""
        self.discovery_file = path
        self.record = record
        self.server_info: dict[str, Any] = {}
        self.commands: list[str] = []
        self._sock = sock
        self._decoder = FrameDecoder(session.MAX_MESSAGE_BYTES)
        self._peer = JsonRpcPeer(self._write, on_request=self._on_request)
        self._lost: BridgeConnectionError | None = None
        self._closed = False

    @classmethod
    def open(
        cls, bridge: str | os.PathLike[str] | None = None, *, timeout: float = CONNECT_TIMEOUT
    ) -> BridgeConnection:
        """Find the bridge (as ``Bridge.connect`` does), connect and authenticate."""
        path, record = select_bridge(bridge)
        try:
            address = parse_endpoint(record.endpoint)
            if isinstance(address, TcpEndpoint):
                sock = socket.create_connection((address.host, address.port), timeout)
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(timeout)
                    sock.connect(address.path)
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:
            raise session.unreachable(record, None, timeout) from None
        except (OSError, ValueError) as error:
            raise session.unreachable(record, error, timeout) from None
        self = cls(sock, path, record)
        try:
            options = session.control_options(record.token, subscribe_events=False)
            params = session.initialize_params({"initializationOptions": options})
            result = self.request("initialize", params, timeout=timeout)
            self.server_info, self.commands = session.read_handshake(result)
            self._peer.notify("initialized", {})
        except BaseException:
            self._sock.close()
            raise
        return self

    def __enter__(self) -> BridgeConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def execute_command(self, command: str, *arguments: Any, timeout: float | None = None) -> Any:
        """Run one of the bridge's commands (``workspace/executeCommand``); return its result."""
        return self.request(
            session.EXECUTE_COMMAND,
            session.command_params(command, arguments),
            timeout=COMMAND_TIMEOUT if timeout is None else timeout,
        )

    def request(self, method: str, params: Any, *, timeout: float) -> Any:
        """Send a request and wait for its answer; an error answer raises its ``BridgeError``."""
        if self._lost is not None:
            raise self._lost
        deadline = time.monotonic() + timeout
        reply = _Reply()
        self._sock.settimeout(timeout)
        request_id = self._peer.request(method, params, reply)
        try:
            while not reply.done():
                left = deadline - time.monotonic()
                if left <= 0:
                    described = session.describe_request(method, params)
                    raise BridgeTimeoutError(
                        f"the bridge did not answer {described} within {timeout:g} s"
                    )
                self._receive(left)
            return reply.result()
        except BaseException:
            if not reply.done() and self._lost is None:
                with contextlib.suppress(BridgeError):
                    self._peer.notify("$/cancelRequest", {"id": request_id})
            raise
        finally:
            self._peer.forget(request_id)

    def close(self) -> None:
        """Leave politely (``shutdown``, then ``exit``) and close. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._lost is None:
            with contextlib.suppress(BridgeError):
                self.request("shutdown", None, timeout=session.GOODBYE_TIMEOUT)
            with contextlib.suppress(BridgeError):  # even after no answer: it may listen
                self._peer.notify("exit")
        self._sock.close()
        self._connection_lost("the connection to the bridge is closed")

    def _receive(self, wait: float) -> None:
        """Handle the next message, waiting at most ``wait`` seconds for more bytes."""
        try:
            body = self._decoder.next_body()
            if body is None:
                self._sock.settimeout(wait)
                try:
                    data = self._sock.recv(framing.READ_SIZE)
                except TimeoutError:
                    return
                if not data:
                    self._decoder.finish()
                    raise self._connection_lost("the bridge closed the connection")
                self._decoder.feed(data)
                return
        except FrameError as error:
            raise self._connection_lost(f"the bridge broke the protocol: {error}") from None
        except OSError as error:
            raise self._connection_lost(f"the connection to the bridge broke: {error}") from None
        try:
            message = json.loads(body)
        except ValueError:
            raise self._connection_lost("the bridge sent a message that is not JSON") from None
        self._peer.receive(message)

    def _on_request(self, request_id: Any, method: str, params: Any) -> None:
        session.answer_bridge_request(self._peer, request_id, method)

    def _write(self, message: dict[str, Any]) -> None:
        if self._lost is not None:
            raise self._lost
        try:
            self._sock.sendall(framing.encode(message))
        except OSError as error:
            raise self._connection_lost(f"the connection to the bridge broke: {error}") from None

    def _connection_lost(self, reason: str) -> BridgeConnectionError:
        if self._lost is None:
            self._lost = BridgeConnectionError(reason)
            self._peer.fail_pending(self._lost)
        return self._lost


# -- the one-liners ---------------------------------------------------------------------------


def start_new_task(
    task: str | None = None,
    images: Images | None = None,
    *,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, start a new Cline task, close; return the bridge's result. Blocking.

    ``cline_bridge.client.start_new_task("Refactor parse() for readability", images=["ui.png"])``.
    """
    argument = session.task_argument("task", task, images)
    return _run(bridge, names.CMD_START_NEW_TASK, [argument], timeout)


def send_message(
    message: str | None = None,
    images: Images | None = None,
    *,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, send a message to the current Cline task, close. Blocking."""
    argument = session.task_argument("message", message, images)
    return _run(bridge, names.CMD_SEND_MESSAGE, [argument], timeout)


def approve(
    *,
    force: bool = False,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, press Cline's primary button (approve), close; return what it did. Blocking.

    With nothing waiting for an answer nothing is pressed (``"action": "none"``) unless
    ``force``: Cline would take the press as "go on" and start a new turn."""
    return _run(bridge, names.CMD_PRESS_PRIMARY_BUTTON, session.button_arguments(force), timeout)


def reject(
    *,
    force: bool = False,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, press Cline's secondary button (reject), close; return what it did. Blocking.
    ``force`` as for ``approve``."""
    return _run(bridge, names.CMD_PRESS_SECONDARY_BUTTON, session.button_arguments(force), timeout)


def status(
    *, bridge: str | os.PathLike[str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """Connect, return the bridge's ``clineBridge.status``, close. Blocking."""
    return _run(bridge, names.CMD_STATUS, [], timeout)


def _run(
    bridge: str | os.PathLike[str] | None,
    command: str,
    arguments: list[Any],
    timeout: float | None,
) -> dict[str, Any]:
    with BridgeConnection.open(bridge) as connection:
        return session.as_dict(connection.execute_command(command, *arguments, timeout=timeout))
