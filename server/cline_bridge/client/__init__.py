"""The Python library for scripts: drive the Cline panel of a running sidecar.

A sidecar (started by VS Code's Cline Bridge extension, or by another editor with
``cline-bridge serve``) listens on a private control endpoint. ``Bridge`` finds it (see
``control.discovery.select_bridge``), presents the token from its discovery file, and runs the
same commands as the editor::

    import asyncio
    from cline_bridge.client import Bridge

    async def main() -> None:
        async with Bridge.connect() as bridge:
            await bridge.start_new_task("Fix the failing test", images=["shot.png"])
            print(await bridge.status())

    asyncio.run(main())

One-line scripts can use the blocking functions, which connect, call and close::

    import cline_bridge.client as cline

    cline.start_new_task("Add type hints to utils.py")
    cline.approve()

Without an editor, ``Bridge.headless()`` starts a private sidecar of its own (``cline-bridge
serve`` as a child process, talking over its stdio) for the current folder; its tasks run in the
Cline CLI and end when the bridge is closed::

    async with Bridge.headless() as bridge:
        result = await bridge.start_new_task("Add a --verbose flag")
        async for event in bridge.events():
            ...

Every failure is a ``BridgeError``; see ``client_errors`` for the classes and their codes.
This module imports neither pygls nor lsprotocol, so a script starts in a few milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias

from cline_bridge import __version__
from cline_bridge.wire.discovery import (
    DiscoveryRecord,
    TcpEndpoint,
    parse_endpoint,
    select_bridge,
)
from cline_bridge.wire.errors import (
    ApiError,
    BridgeConnectionError,
    BridgeError,
    BridgeNotFoundError,
    BridgeTimeoutError,
    ClineUnavailableError,
    InternalError,
    InvalidArgumentsError,
    NoApiKeyError,
    NoHostError,
    NotAuthorisedError,
    RequestCancelledError,
    RuntimeDirError,
    error_from_response,
)
from cline_bridge.wire.names import (
    CMD_CHAT,
    CMD_PRESS_PRIMARY_BUTTON,
    CMD_PRESS_SECONDARY_BUTTON,
    CMD_SEND_MESSAGE,
    CMD_START_NEW_TASK,
    CMD_STATUS,
    NOTIFY_TASK_EVENT,
)

__all__ = [
    "ApiError",
    "Bridge",
    "BridgeConnectionError",
    "BridgeError",
    "BridgeNotFoundError",
    "BridgeTimeoutError",
    "ClineUnavailableError",
    "InternalError",
    "InvalidArgumentsError",
    "NoApiKeyError",
    "NoHostError",
    "NotAuthorisedError",
    "RequestCancelledError",
    "RuntimeDirError",
    "approve",
    "reject",
    "send_message",
    "start_new_task",
    "status",
]

CancelledError = RequestCancelledError
"""The old name of ``RequestCancelledError``, kept for scripts that use it. Not in ``__all__``: a
star import would shadow ``asyncio.CancelledError``."""

CLIENT_NAME = "cline-bridge-client"

CONNECT_TIMEOUT = 10.0
"""Seconds to reach the bridge and finish the handshake (and, at the end, to say goodbye)."""
HEADLESS_TIMEOUT = 30.0
"""Seconds for a headless sidecar to start and answer ``initialize`` (Python and pygls load
first), and at the end to stop with its Cline CLI before it is killed."""
COMMAND_TIMEOUT = 60.0
"""Seconds to wait for a task command's answer: longer than the sidecar's own wait for the
editor (30 s by default), so that its clearer error arrives first."""
CHAT_TIMEOUT = 300.0
"""Seconds a chat may go without a sign of life (streamed text or the answer)."""
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""The largest message accepted from the bridge."""

Images: TypeAlias = Sequence[str | os.PathLike[str]]
"""Images for a task or message: file paths (relative ones are resolved against the current
directory), ``file:`` URIs, or ``data:image/...;base64,...`` URLs."""


class Bridge:
    """A connection to one sidecar: a running one's control endpoint, or a headless child's stdio.

    Get one with ``Bridge.connect(...)`` or ``Bridge.headless(...)``, either awaited (then call
    ``aclose()``) or, better, as ``async with Bridge.connect(...) as bridge:``. The task methods
    return once Cline has the action, not when the task is done; their results are the bridge's
    (``{"host": "editor", ...}``).
    Requests may run concurrently. Every wait is bounded: a request that outlives its timeout is
    cancelled on the bridge and raises ``BridgeTimeoutError``.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        discovery_file: Path | None,
        record: DiscoveryRecord | None,
        subscribed: bool,
        timeout: float,
        process: asyncio.subprocess.Process | None = None,
    ) -> None:
        """Internal: use ``Bridge.connect`` or ``Bridge.headless``."""
        self.discovery_file = discovery_file
        """The discovery file the bridge was found through (None for a headless bridge)."""
        self.record = record
        """The bridge's discovery record: pid, endpoint, folders, host, version (None for a
        headless bridge)."""
        self.server_info: dict[str, Any] = {}
        """``serverInfo`` from the handshake: ``{"name": "cline-bridge", "version": ...}``."""
        self.commands: list[str] = []
        """The commands the bridge offers, from the handshake."""
        self._reader = reader
        self._writer = writer
        self._subscribed = subscribed
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._progress: dict[Any, tuple[int, Callable[[Mapping[str, Any]], None]]] = {}
        self._activity: dict[int, float] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._lost: BridgeConnectionError | None = None
        self._closing = False
        self._process = process
        self._reader_task = asyncio.ensure_future(self._read_loop())

    @property
    def pid(self) -> int | None:
        """The sidecar's process id: the discovery record's, or the headless child's."""
        if self._process is not None:
            return self._process.pid
        return self.record.pid if self.record is not None else None

    @classmethod
    def connect(
        cls,
        bridge: str | os.PathLike[str] | None = None,
        *,
        subscribe_events: bool = False,
        timeout: float = CONNECT_TIMEOUT,
    ) -> _Connecting:
        """Find a bridge, connect and authenticate; await it or use it with ``async with``.

        ``bridge`` is a discovery file; without it the bridge is chosen by ``$CLINE_BRIDGE``, the
        current directory, or being the only one (``select_bridge``). ``subscribe_events`` asks
        for ``clineBridge/taskEvent`` notifications, read with ``events()``. ``timeout`` bounds
        reaching the bridge and the handshake.

        Raises ``BridgeNotFoundError`` (no bridge, or no single one), ``BridgeConnectionError``
        (unreachable), ``NotAuthorisedError`` (the token was refused)::

            async with Bridge.connect(subscribe_events=True) as bridge:
                await bridge.start_new_task("Write a haiku about Unix sockets")
                async for event in bridge.events():
                    print(event["kind"])
        """
        return _Connecting(cls._open(bridge, subscribe_events=subscribe_events, timeout=timeout))

    @classmethod
    def headless(
        cls,
        cwd: str | os.PathLike[str] | None = None,
        *,
        command: Sequence[str] | None = None,
        options: Mapping[str, Any] | None = None,
        timeout: float = HEADLESS_TIMEOUT,
    ) -> _Connecting:
        """Start a private sidecar as a child process and talk LSP over its stdio.

        For a terminal without an editor: the sidecar has no control endpoint, its tasks run in
        the Cline CLI (its ACP host: ``acp.command`` from ``options``, else
        ``$CLINE_BRIDGE_ACP_COMMAND``, else ``cline --acp``) and stop when the bridge closes.
        ``cwd`` (default: the current directory) is its working directory and only workspace
        folder. ``command`` replaces ``python -m cline_bridge serve --log-level warning``;
        ``options`` are added to its ``initializationOptions`` (``{"control": false}``). The
        child runs in a session of its own, so a Ctrl-C in the terminal reaches this process
        only; ``aclose()`` stops it (``shutdown``, ``exit``, then a kill after ``timeout``).
        Task events always arrive, read them with ``events()``; ``timeout`` also bounds the
        start and the handshake::

            async with Bridge.headless() as bridge:
                started = await bridge.start_new_task("Explain main.py")
                async for event in bridge.events():
                    if event["taskId"] == started["taskId"]:
                        print(event["kind"])
        """
        folder = Path(os.path.abspath(os.fspath(cwd) if cwd is not None else os.curdir))
        argv = list(command) if command is not None else _headless_command()
        return _Connecting(cls._spawn(folder, argv, dict(options or {}), timeout))

    @classmethod
    async def _spawn(
        cls, folder: Path, argv: list[str], options: dict[str, Any], timeout: float
    ) -> Bridge:
        # Its own session (process group on Windows): a Ctrl-C meant for the CLI must not kill
        # the sidecar before it could stop its Cline CLI cleanly.
        isolation: dict[str, Any]
        if sys.platform == "win32":
            isolation = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        else:
            isolation = {"start_new_session": True}
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=folder,
                **isolation,
            )
        except OSError as error:
            reason = error.strerror or error
            raise BridgeConnectionError(f"cannot start {argv[0]}: {reason}") from None
        assert process.stdin is not None
        assert process.stdout is not None
        self = cls(
            process.stdout,
            process.stdin,
            discovery_file=None,
            record=None,
            subscribed=True,
            timeout=timeout,
            process=process,
        )
        uri = folder.as_uri()
        try:
            await self._handshake(
                {
                    "rootUri": uri,
                    "workspaceFolders": [{"uri": uri, "name": folder.name or str(folder)}],
                    "initializationOptions": {**options, "control": False},
                }
            )
        except BridgeConnectionError as error:
            await self._close_transport()
            if not isinstance(error, BridgeTimeoutError) and process.returncode is not None:
                raise BridgeConnectionError(
                    f"the headless cline-bridge exited with status {process.returncode} "
                    "before it answered; its messages are above"
                ) from None
            raise error from None
        except BaseException:
            await self._close_transport()
            raise
        return self

    @classmethod
    async def _open(
        cls, bridge: str | os.PathLike[str] | None, *, subscribe_events: bool, timeout: float
    ) -> Bridge:
        path, record = select_bridge(bridge)
        where = f"the cline-bridge at {record.endpoint} (pid {record.pid})"
        try:
            address = parse_endpoint(record.endpoint)
            if isinstance(address, TcpEndpoint):
                opening = asyncio.open_connection(address.host, address.port)
            else:
                opening = asyncio.open_unix_connection(address.path)
            reader, writer = await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError:
            raise BridgeTimeoutError(
                f"{where} did not accept a connection within {timeout:g} s"
            ) from None
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise BridgeConnectionError(f"cannot reach {where}: {reason}") from None
        self = cls(
            reader,
            writer,
            discovery_file=path,
            record=record,
            subscribed=subscribe_events,
            timeout=timeout,
        )
        options: dict[str, Any] = {"token": record.token}
        if subscribe_events:
            options["subscribe"] = ["taskEvents"]
        try:
            await self._handshake({"initializationOptions": options})
        except BaseException:
            await self._close_transport()
            raise
        return self

    async def _handshake(self, params: Mapping[str, Any]) -> None:
        result = await self._request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": CLIENT_NAME, "version": __version__},
                "capabilities": {},
                **params,
            },
            timeout=self._timeout,
        )
        if isinstance(result, Mapping):
            info = result.get("serverInfo")
            self.server_info = dict(info) if isinstance(info, Mapping) else {}
            capabilities = result.get("capabilities")
            provider = (
                capabilities.get("executeCommandProvider")
                if isinstance(capabilities, Mapping)
                else None
            )
            commands = provider.get("commands") if isinstance(provider, Mapping) else None
            self.commands = [c for c in commands if isinstance(c, str)] if commands else []
        await self._notify("initialized", {})

    async def __aenter__(self) -> Bridge:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the commands ---------------------------------------------------------------------------

    async def start_new_task(
        self, task: str | None = None, images: Images | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Start a new Cline task (``clineBridge.startNewTask``); return the bridge's result.

        ``images`` are file paths (relative to the current directory), ``file:`` URIs or image
        data URLs; the bridge reads and checks them (``InvalidArgumentsError`` if one is not a
        PNG, JPEG, GIF or WebP image)::

            await bridge.start_new_task("Explain this error", images=["error.png"])
        """
        return await self._task_command(CMD_START_NEW_TASK, "task", task, images, timeout)

    async def send_message(
        self,
        message: str | None = None,
        images: Images | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a message to the current Cline task (``clineBridge.sendMessage``)."""
        return await self._task_command(CMD_SEND_MESSAGE, "message", message, images, timeout)

    async def press_primary_button(self, *, timeout: float | None = None) -> dict[str, Any]:
        """Press Cline's primary button: approve, save, run (``clineBridge.pressPrimaryButton``)."""
        return _as_dict(await self.execute_command(CMD_PRESS_PRIMARY_BUTTON, timeout=timeout))

    async def press_secondary_button(self, *, timeout: float | None = None) -> dict[str, Any]:
        """Press Cline's secondary button: reject, cancel (``clineBridge.pressSecondaryButton``)."""
        return _as_dict(await self.execute_command(CMD_PRESS_SECONDARY_BUTTON, timeout=timeout))

    async def status(self, *, timeout: float | None = None) -> dict[str, Any]:
        """``clineBridge.status``: the bridge's version, host, REST base URL, whether it has a
        key (never the key) and its control endpoint."""
        return _as_dict(await self.execute_command(CMD_STATUS, timeout=timeout))

    async def chat(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Mapping[str, Any]] | None = None,
        model: str | None = None,
        system: str | None = None,
        on_text: Callable[[str], object] | None = None,
        timeout: float = CHAT_TIMEOUT,
        **options: Any,
    ) -> dict[str, Any]:
        """Ask the Cline REST API through the bridge (``clineBridge.chat``); return the answer.

        Give a ``prompt`` or whole ``messages`` (OpenAI shape); ``options`` pass through as the
        command's other keys (``temperature``, ``maxTokens``, ``tools``). ``on_text`` is called
        with each piece of the answer as it streams; the pieces joined are the answer's text. If
        it raises, the chat is cancelled and its exception propagates. ``timeout`` bounds the
        time without a sign of life, not the whole answer. The result is
        ``{"id", "model", "text", "toolCalls", "finishReason", "usage"}``. ``on_text`` is a
        plain function, called on the connection's reader: keep it quick::

            answer = await bridge.chat("One word for fast?", on_text=print)
            print(answer["usage"])

        Raises ``NoApiKeyError`` without a key on the bridge, ``ApiError`` when the API fails.
        """
        arguments: dict[str, Any] = dict(options)
        for key, value in (
            ("prompt", prompt),
            ("messages", [dict(m) for m in messages] if messages is not None else None),
            ("model", model),
            ("system", system),
        ):
            if value is not None:
                arguments[key] = value

        def on_progress(value: Mapping[str, Any]) -> None:
            message = value.get("message")
            if on_text is not None and value.get("kind") == "report" and isinstance(message, str):
                on_text(message)

        token = f"{CLIENT_NAME}-chat-{next(self._ids)}"
        params = {"command": CMD_CHAT, "arguments": [arguments], "workDoneToken": token}
        result = await self._request(
            "workspace/executeCommand", params, timeout=timeout, progress=on_progress
        )
        return _as_dict(result)

    async def execute_command(
        self, command: str, *arguments: Any, timeout: float | None = None
    ) -> Any:
        """Run any of the bridge's commands (``workspace/executeCommand``); return its result.

        For the commands without a method here::

            models = await bridge.execute_command("clineBridge.listModels")
        """
        return await self._request(
            "workspace/executeCommand",
            {"command": command, "arguments": list(arguments)},
            timeout=COMMAND_TIMEOUT if timeout is None else timeout,
        )

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The ``clineBridge/taskEvent`` notifications (``{taskId, kind, ...}``) as they come.

        Needs ``connect(subscribe_events=True)``. Ends after ``aclose()``; raises
        ``BridgeConnectionError`` if the connection is lost. Events that arrive while nobody
        iterates are kept, so none is missed between two loops.
        """
        if not self._subscribed:
            raise RuntimeError("connect with subscribe_events=True to receive task events")
        while True:
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)  # let every other iteration end too
                if self._lost is not None and not self._closing:
                    raise self._lost
                return
            yield event

    async def aclose(self) -> None:
        """Leave politely (``shutdown``, then ``exit``) and close. Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        if self._lost is None:
            # A headless sidecar stops its Cline CLI before it answers: give it the time.
            wait = self._timeout if self._process is not None else min(self._timeout, 2.0)
            with contextlib.suppress(BridgeError, OSError):
                await self._request("shutdown", None, timeout=wait, force=True)
            with contextlib.suppress(BridgeError, OSError):  # even after no answer: it may listen
                await self._notify("exit", None)
        await self._close_transport()

    # -- the wire -------------------------------------------------------------------------------

    async def _task_command(
        self,
        command: str,
        key: str,
        text: str | None,
        images: Images | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        argument: dict[str, Any] = {}
        if text is not None:
            argument[key] = text
        if images is not None:
            argument["images"] = absolute_images(images)
        return _as_dict(await self.execute_command(command, argument, timeout=timeout))

    async def _request(
        self,
        method: str,
        params: Any,
        *,
        timeout: float,
        progress: Callable[[Mapping[str, Any]], None] | None = None,
        force: bool = False,
    ) -> Any:
        """Send a request and wait for its answer; an error answer raises its ``BridgeError``.

        With ``progress`` (the request's ``params`` then hold a ``workDoneToken``), each
        ``$/progress`` value for the token is passed to it, and the timeout counts from the last
        report rather than from the start. When the wait ends without an answer (timeout, the
        caller cancelled, ``progress`` raised), ``$/cancelRequest`` tells the bridge to stop.
        ``force`` sends even while closing (for ``shutdown``).
        """
        if self._lost is not None:
            raise self._lost
        if self._closing and not force:
            raise BridgeConnectionError("the connection to the bridge is closed")
        request_id = next(self._ids)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        self._activity[request_id] = time.monotonic()
        token = params.get("workDoneToken") if progress is not None else None
        if progress is not None:
            self._progress[token] = (request_id, progress)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self._send(message)
            while not reply.done():
                left = timeout - (time.monotonic() - self._activity[request_id])
                if left <= 0:
                    raise BridgeTimeoutError(
                        f"the bridge did not answer {_name(method, params)} within {timeout:g} s"
                    )
                await asyncio.wait({reply}, timeout=left)
            return reply.result()
        except BaseException:
            if not reply.done():
                reply.cancel()
                self._cancel_on_bridge(request_id)
            raise
        finally:
            self._pending.pop(request_id, None)
            self._activity.pop(request_id, None)
            if progress is not None:
                self._progress.pop(token, None)

    def _cancel_on_bridge(self, request_id: int) -> None:
        if self._lost is None:
            with contextlib.suppress(BridgeError, OSError, RuntimeError):
                self._write(
                    {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request_id}}
                )

    async def _notify(self, method: str, params: Any) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    async def _send(self, message: Mapping[str, Any]) -> None:
        self._write(message)
        try:
            await self._writer.drain()
        except (OSError, RuntimeError) as error:
            raise self._connection_lost(f"the connection to the bridge broke: {error}") from None

    def _write(self, message: Mapping[str, Any]) -> None:
        if self._lost is not None:
            raise self._lost
        if self._writer.is_closing():
            raise self._connection_lost("the connection to the bridge is closed")
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        self._writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def _read_loop(self) -> None:
        try:
            while True:
                body = await _read_frame(self._reader)
                if body is None:
                    self._connection_lost("the bridge closed the connection")
                    return
                try:
                    message = json.loads(body)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    self._connection_lost("the bridge sent a message that is not JSON")
                    return
                if isinstance(message, dict):
                    self._dispatch(message)
        except _FrameError as error:
            self._connection_lost(f"the bridge broke the protocol: {error}")
        except (OSError, asyncio.IncompleteReadError) as error:
            self._connection_lost(f"the connection to the bridge broke: {error}")
        except Exception as error:  # never leave requests waiting on a dead reader
            self._connection_lost(f"cannot read the bridge's messages: {error!r}")

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            request_id = message.get("id")
            reply = self._pending.get(request_id) if isinstance(request_id, int) else None
            if reply is None or reply.done():
                return
            if "error" in message:
                reply.set_exception(error_from_response(message["error"]))
            else:
                reply.set_result(message.get("result"))
            return
        params = message.get("params")
        if "id" in message:  # a request to us: nothing is expected of a control client
            if method == "window/workDoneProgress/create":
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self._write(
                    {
                        "jsonrpc": "2.0",
                        "id": message["id"],
                        "error": {"code": -32601, "message": f"Method not found: {method}"},
                    }
                )
        elif method == "$/progress" and isinstance(params, Mapping):
            self._on_progress(params)
        elif method == NOTIFY_TASK_EVENT and self._subscribed and isinstance(params, Mapping):
            self._events.put_nowait(dict(params))

    def _on_progress(self, params: Mapping[str, Any]) -> None:
        token = params.get("token")
        entry = self._progress.get(token) if isinstance(token, (str, int)) else None
        value = params.get("value")
        if entry is None or not isinstance(value, Mapping):
            return
        request_id, handler = entry
        reply = self._pending.get(request_id)
        if reply is None or reply.done():
            return
        self._activity[request_id] = time.monotonic()
        try:
            handler(value)
        except Exception as error:  # the caller's callback: it ends the caller's request
            reply.set_exception(error)
            self._cancel_on_bridge(request_id)

    def _connection_lost(self, reason: str) -> BridgeConnectionError:
        if self._lost is None:
            self._lost = BridgeConnectionError(reason)
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(BridgeConnectionError(reason))
            self._events.put_nowait(None)
        return self._lost

    async def _close_transport(self) -> None:
        self._closing = True
        self._connection_lost("the connection to the bridge is closed")
        self._reader_task.cancel()
        with contextlib.suppress(BaseException):
            await self._reader_task
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)
        if self._process is not None:
            await _reap(self._process, self._timeout)


class _Connecting:
    """What ``Bridge.connect`` returns: awaitable, and an async context manager that closes."""

    def __init__(self, opening: Awaitable[Bridge]) -> None:
        self._opening = opening
        self._bridge: Bridge | None = None

    def __await__(self) -> Generator[Any, None, Bridge]:
        return self._opening.__await__()

    async def __aenter__(self) -> Bridge:
        self._bridge = await self._opening
        return self._bridge

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bridge is not None:
            await self._bridge.aclose()


def _headless_command() -> list[str]:
    """The sidecar ``Bridge.headless`` starts: this interpreter's ``cline_bridge``, logging only
    warnings (its stderr is the terminal's)."""
    return [sys.executable, "-m", "cline_bridge", "serve", "--log-level", "warning"]


async def _reap(process: asyncio.subprocess.Process, timeout: float) -> None:
    """Wait for a headless sidecar to exit (its stdin is closed by now); kill it, and whatever it
    started in its session, if it has not within ``timeout``. Never leaves a process behind."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), timeout)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if sys.platform == "win32":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: pgid == pid
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), 10.0)


def absolute_images(images: Images) -> list[str]:
    """Images as the bridge needs them: file paths made absolute against the current directory
    (``~`` expanded); data URLs and ``file:`` URIs unchanged. The sidecar runs elsewhere, so a
    relative path would mean its working directory, not the caller's."""
    if isinstance(images, (str, bytes, os.PathLike)):
        raise TypeError("images must be a list of paths or data URLs, not a single one")
    result = []
    for image in images:
        text = os.fspath(image)
        if not isinstance(text, str):
            raise TypeError(f"an image must be a str or path, not {type(image).__name__}")
        if text.startswith(("data:", "file:")):
            result.append(text)
        else:
            result.append(os.path.abspath(os.path.expanduser(text)))
    return result


class _FrameError(Exception):
    """The bridge broke the LSP base-protocol framing."""


async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """One frame's body, or None at a clean end of the stream."""
    length: int | None = None
    first = True
    while True:
        line = await reader.readline()
        if not line:
            if first:
                return None
            raise _FrameError("the connection closed inside a header")
        first = False
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.partition(b":")
        if not sep:
            raise _FrameError("malformed header line")
        if name.strip().lower() == b"content-length":
            if not value.strip().isdigit():
                raise _FrameError("Content-Length is not a number")
            length = int(value)
    if length is None:
        raise _FrameError("no Content-Length header")
    if length > MAX_MESSAGE_BYTES:
        raise _FrameError(f"a message of {length} bytes is over the limit")
    return await reader.readexactly(length)


def _as_dict(result: Any) -> dict[str, Any]:
    return dict(result) if isinstance(result, Mapping) else {"result": result}


def _name(method: str, params: Any) -> str:
    if method == "workspace/executeCommand" and isinstance(params, Mapping):
        return str(params.get("command"))
    return method


# -- blocking one-liners ----------------------------------------------------------------------


def start_new_task(
    task: str | None = None,
    images: Images | None = None,
    *,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, start a new Cline task, close; return the bridge's result. Blocking.

    ``cline_bridge.client.start_new_task("Refactor parse() for readability", images=["ui.png"])``.
    Not for use inside a running event loop (use ``Bridge``).
    """
    return _run(bridge, lambda b: b.start_new_task(task, images, timeout=timeout))


def send_message(
    message: str | None = None,
    images: Images | None = None,
    *,
    bridge: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect, send a message to the current Cline task, close. Blocking."""
    return _run(bridge, lambda b: b.send_message(message, images, timeout=timeout))


def approve(
    *, bridge: str | os.PathLike[str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """Connect, press Cline's primary button (approve), close. Blocking."""
    return _run(bridge, lambda b: b.press_primary_button(timeout=timeout))


def reject(
    *, bridge: str | os.PathLike[str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """Connect, press Cline's secondary button (reject), close. Blocking."""
    return _run(bridge, lambda b: b.press_secondary_button(timeout=timeout))


def status(
    *, bridge: str | os.PathLike[str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """Connect, return the bridge's ``clineBridge.status``, close. Blocking."""
    return _run(bridge, lambda b: b.status(timeout=timeout))


def _run(
    bridge: str | os.PathLike[str] | None,
    call: Callable[[Bridge], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with Bridge.connect(bridge) as connected:
            return await call(connected)

    return asyncio.run(main())
