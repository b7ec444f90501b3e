"""``Bridge``: an asyncio connection to one sidecar, for scripts that do more than one thing.

It reaches a running sidecar through its control endpoint (``Bridge.connect``), or starts a
private one (``Bridge.headless``), and speaks JSON-RPC over the LSP framing with it (``wire``).
Requests may overlap; task events arrive on ``events()``; chats stream their text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cline_bridge.client import headless, session
from cline_bridge.client.session import CLIENT_NAME, COMMAND_TIMEOUT, CONNECT_TIMEOUT
from cline_bridge.wire import framing
from cline_bridge.wire.discovery import DiscoveryRecord, TcpEndpoint, parse_endpoint, select_bridge
from cline_bridge.wire.errors import BridgeConnectionError, BridgeError, BridgeTimeoutError
from cline_bridge.wire.framing import FrameDecoder, FrameError
from cline_bridge.wire.names import (
    CMD_CHAT,
    CMD_PRESS_PRIMARY_BUTTON,
    CMD_PRESS_SECONDARY_BUTTON,
    CMD_SEND_MESSAGE,
    CMD_START_NEW_TASK,
    CMD_STATUS,
    NOTIFY_TASK_EVENT,
)
from cline_bridge.wire.peer import JsonRpcPeer

if TYPE_CHECKING:
    from cline_bridge.client.session import Images

CHAT_TIMEOUT = 300.0
"""Seconds a chat may go without a sign of life (streamed text or the answer)."""

ProgressHandler = Callable[[Mapping[str, Any]], None]


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
        self._decoder = FrameDecoder(session.MAX_MESSAGE_BYTES)
        self._peer = JsonRpcPeer(
            self._write, on_request=self._on_request, on_notification=self._on_notification
        )
        self._progress: dict[Any, tuple[int, asyncio.Future[Any], ProgressHandler]] = {}
        """Per ``workDoneToken``: its request's id and reply, and where its reports go."""
        self._activity: dict[asyncio.Future[Any], float] = {}
        """When each request in flight last showed a sign of life (its start, a report)."""
        self._chat_numbers = itertools.count(1)
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
        timeout: float = headless.HEADLESS_TIMEOUT,
    ) -> _Connecting:
        """Start a private sidecar as a child process and talk LSP over its stdio.

        For a terminal without an editor: the sidecar has no control endpoint, its tasks run in
        the Cline CLI (its ACP host: ``acp.command`` from ``options``, else
        ``$CLINE_BRIDGE_ACP_COMMAND``, else ``cline --acp``) and stop when the bridge closes.
        ``cwd`` (default: the current directory) is its working directory and only workspace
        folder. ``command`` replaces ``python -m cline_bridge serve --log-level warning``;
        ``options`` are added to its ``initializationOptions`` (``{"control": false}``). The
        child runs in a group of its own, so a Ctrl-C in the terminal reaches this process
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
        argv = list(command) if command is not None else headless.headless_command()
        return _Connecting(cls._spawn(folder, argv, dict(options or {}), timeout))

    @classmethod
    async def _spawn(
        cls, folder: Path, argv: list[str], options: dict[str, Any], timeout: float
    ) -> Bridge:
        process = await headless.start_sidecar(argv, folder)
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
        try:
            address = parse_endpoint(record.endpoint)
            if isinstance(address, TcpEndpoint):
                opening = asyncio.open_connection(address.host, address.port)
            else:
                opening = asyncio.open_unix_connection(address.path)
            reader, writer = await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError:
            raise session.unreachable(record, None, timeout) from None
        except (OSError, ValueError) as error:
            raise session.unreachable(record, error, timeout) from None
        self = cls(
            reader,
            writer,
            discovery_file=path,
            record=record,
            subscribed=subscribe_events,
            timeout=timeout,
        )
        try:
            options = session.control_options(record.token, subscribe_events)
            await self._handshake({"initializationOptions": options})
        except BaseException:
            await self._close_transport()
            raise
        return self

    async def _handshake(self, params: Mapping[str, Any]) -> None:
        result = await self._request(
            "initialize", session.initialize_params(params), timeout=self._timeout
        )
        self.server_info, self.commands = session.read_handshake(result)
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
        argument = session.task_argument("task", task, images)
        return session.as_dict(
            await self.execute_command(CMD_START_NEW_TASK, argument, timeout=timeout)
        )

    async def send_message(
        self,
        message: str | None = None,
        images: Images | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a message to the current Cline task (``clineBridge.sendMessage``)."""
        argument = session.task_argument("message", message, images)
        return session.as_dict(
            await self.execute_command(CMD_SEND_MESSAGE, argument, timeout=timeout)
        )

    async def press_primary_button(
        self, *, force: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """Press Cline's primary button: approve, save, run (``clineBridge.pressPrimaryButton``).

        The result's ``action`` says what it did: ``approved``, or ``none`` when nothing waits
        for an answer (then nothing is pressed: Cline would start a new turn), unless ``force``.
        """
        arguments = session.button_arguments(force)
        result = await self.execute_command(CMD_PRESS_PRIMARY_BUTTON, *arguments, timeout=timeout)
        return session.as_dict(result)

    async def press_secondary_button(
        self, *, force: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """Press Cline's secondary button: reject, cancel (``clineBridge.pressSecondaryButton``);
        ``force`` as for ``press_primary_button``."""
        arguments = session.button_arguments(force)
        result = await self.execute_command(CMD_PRESS_SECONDARY_BUTTON, *arguments, timeout=timeout)
        return session.as_dict(result)

    async def status(self, *, timeout: float | None = None) -> dict[str, Any]:
        """``clineBridge.status``: the bridge's version, host, REST base URL, whether it has a
        key (never the key) and its control endpoint."""
        return session.as_dict(await self.execute_command(CMD_STATUS, timeout=timeout))

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

        params = session.command_params(CMD_CHAT, [arguments])
        params["workDoneToken"] = f"{CLIENT_NAME}-chat-{next(self._chat_numbers)}"
        result = await self._request(
            session.EXECUTE_COMMAND, params, timeout=timeout, progress=on_progress
        )
        return session.as_dict(result)

    async def execute_command(
        self, command: str, *arguments: Any, timeout: float | None = None
    ) -> Any:
        """Run any of the bridge's commands (``workspace/executeCommand``); return its result.

        For the commands without a method here::

            models = await bridge.execute_command("clineBridge.listModels")
        """
        return await self._request(
            session.EXECUTE_COMMAND,
            session.command_params(command, arguments),
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
            wait = (
                self._timeout
                if self._process is not None
                else min(self._timeout, session.GOODBYE_TIMEOUT)
            )
            with contextlib.suppress(BridgeError, OSError):
                await self._request("shutdown", None, timeout=wait, force=True)
            with contextlib.suppress(BridgeError, OSError):  # even after no answer: it may listen
                await self._notify("exit", None)
        await self._close_transport()

    # -- the wire -------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        params: Any,
        *,
        timeout: float,
        progress: ProgressHandler | None = None,
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
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._activity[reply] = time.monotonic()
        token = params.get("workDoneToken") if progress is not None else None
        request_id: int | None = None
        try:
            request_id = self._peer.request(method, params, reply)
            if progress is not None:
                self._progress[token] = (request_id, reply, progress)
            await self._drain()
            while not reply.done():
                left = timeout - (time.monotonic() - self._activity[reply])
                if left <= 0:
                    described = session.describe_request(method, params)
                    raise BridgeTimeoutError(
                        f"the bridge did not answer {described} within {timeout:g} s"
                    )
                await asyncio.wait({reply}, timeout=left)
            return reply.result()
        except BaseException:
            if request_id is not None and not reply.done():
                reply.cancel()
                self._cancel_on_bridge(request_id)
            raise
        finally:
            if request_id is not None:
                self._peer.forget(request_id)
            self._activity.pop(reply, None)
            if progress is not None:
                self._progress.pop(token, None)

    def _cancel_on_bridge(self, request_id: int) -> None:
        if self._lost is None:
            with contextlib.suppress(BridgeError, OSError, RuntimeError):
                self._peer.notify("$/cancelRequest", {"id": request_id})

    async def _notify(self, method: str, params: Any) -> None:
        self._peer.notify(method, params)
        await self._drain()

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, RuntimeError) as error:
            raise self._connection_lost(f"the connection to the bridge broke: {error}") from None

    def _write(self, message: dict[str, Any]) -> None:
        if self._lost is not None:
            raise self._lost
        if self._writer.is_closing():
            raise self._connection_lost("the connection to the bridge is closed")
        self._writer.write(framing.encode(message))

    async def _read_loop(self) -> None:
        try:
            while True:
                body = await framing.read_body(self._reader, self._decoder)
                if body is None:
                    self._connection_lost("the bridge closed the connection")
                    return
                try:
                    message = json.loads(body)
                except ValueError:
                    self._connection_lost("the bridge sent a message that is not JSON")
                    return
                self._peer.receive(message)
        except FrameError as error:
            self._connection_lost(f"the bridge broke the protocol: {error}")
        except OSError as error:
            self._connection_lost(f"the connection to the bridge broke: {error}")
        except Exception as error:  # never leave requests waiting on a dead reader
            self._connection_lost(f"cannot read the bridge's messages: {error!r}")

    def _on_request(self, request_id: Any, method: str, params: Any) -> None:
        session.answer_bridge_request(self._peer, request_id, method)

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "$/progress" and isinstance(params, dict):
            self._on_progress(params)
        elif method == NOTIFY_TASK_EVENT and self._subscribed and isinstance(params, dict):
            self._events.put_nowait(dict(params))

    def _on_progress(self, params: Mapping[str, Any]) -> None:
        token = params.get("token")
        entry = self._progress.get(token) if isinstance(token, (str, int)) else None
        value = params.get("value")
        if entry is None or not isinstance(value, Mapping):
            return
        request_id, reply, handler = entry
        if reply.done():
            return
        self._activity[reply] = time.monotonic()
        try:
            handler(value)
        except Exception as error:  # the caller's callback: it ends the caller's request
            reply.set_exception(error)
            self._cancel_on_bridge(request_id)

    def _connection_lost(self, reason: str) -> BridgeConnectionError:
        if self._lost is None:
            self._lost = BridgeConnectionError(reason)
            self._peer.fail_pending(self._lost)
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
            await headless.reap(self._process, self._timeout)


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
