"""A control endpoint double: the sidecar's side of the wire, scripted and recording.

It runs an asyncio server (Unix socket, or TCP on 127.0.0.1) on a thread of its own, so that both
async tests in the test's loop and CLI subprocesses can talk to it. It checks the token like the
real endpoint (-32005 and a closed connection when wrong), answers ``shutdown`` and commands from
a script, streams ``$/progress`` for scripted chat answers, sends task events to subscribers (on
demand, or scripted around a command's answer), and records every message it received, in order.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = "test-token-0123456789"

DISPATCHED = {"host": "editor", "dispatched": True}
STATUS = {"version": "0.1.0", "host": "editor", "apiKeyConfigured": False}


@dataclass
class Reply:
    """What the fake does with one command: ``close`` the connection, or report ``progress``
    (when the request has a workDoneToken; ``delay`` seconds apart), then send the task events
    ``events_before`` to every subscriber, then ``hang`` (never answer), or answer ``error``, or
    ``result``, then send ``events_after``. Events go ``event_delay`` seconds apart."""

    result: Any = None
    error: dict[str, Any] | None = None
    hang: bool = False
    close: bool = False
    progress: Sequence[str] = ()
    delay: float = 0.01
    events_before: Sequence[dict[str, Any]] = ()
    events_after: Sequence[dict[str, Any]] = ()
    event_delay: float = 0.0


class TaskEvents:
    """Builds one task's ``clineBridge/taskEvent`` params as the ACP host sends them: ``seq``
    increasing across every builder sharing ``counter``."""

    def __init__(self, task_id: str = "t1", counter: list[int] | None = None) -> None:
        self.task_id = task_id
        self.counter = counter if counter is not None else [0]

    def __call__(self, kind: str, state: str = "running", **fields: Any) -> dict[str, Any]:
        self.counter[0] += 1
        return {
            "taskId": self.task_id,
            "seq": self.counter[0],
            "kind": kind,
            "state": state,
            **fields,
        }

    def other(self, task_id: str) -> TaskEvents:
        """A builder for another task, numbering on from this one."""
        return TaskEvents(task_id, self.counter)


@dataclass
class _Connection:
    writer: asyncio.StreamWriter
    subscribed: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            body = json.dumps(message).encode()
            self.writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


class FakeEndpoint:
    """Start with ``start(socket_path)``; ``address`` is then the discovery file's endpoint."""

    def __init__(self, token: str = TOKEN, transport: str = "unix") -> None:
        self.token = token
        self.transport = transport
        self.address = ""
        self.script: dict[str, Reply] = {}
        self.answer_initialize = True
        self.received: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._connections: list[_Connection] = []

    # -- driving it from a test -------------------------------------------------------------

    def start(self, socket_path: Path) -> str:
        self._thread.start()
        starting = asyncio.run_coroutine_threadsafe(self._start(socket_path), self._loop)
        self.address = starting.result(10)
        return self.address

    def close(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    def emit(self, params: dict[str, Any]) -> None:
        """Send a ``clineBridge/taskEvent`` to every subscribed connection."""
        message = {"jsonrpc": "2.0", "method": "clineBridge/taskEvent", "params": params}
        self.send_to_all(message, subscribed_only=True)

    def send_to_all(self, message: dict[str, Any], *, subscribed_only: bool = False) -> None:
        """Send any message to every connection (or every subscribed one)."""

        def send() -> None:
            for connection in self._connections:
                if connection.subscribed or not subscribed_only:
                    connection.send(message)

        self._loop.call_soon_threadsafe(send)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first received message that satisfies ``predicate``, waiting for it if need be."""
        with self._changed:
            found: list[dict[str, Any]] = []

            def check() -> bool:
                found.extend(m for m in self.received if predicate(m))
                return bool(found)

            if not self._changed.wait_for(check, timeout):
                raise AssertionError(f"no such message within {timeout} s: {self.received}")
            return found[0]

    def commands(self) -> list[dict[str, Any]]:
        """The params of every ``workspace/executeCommand`` received."""
        return [m["params"] for m in self.received if m.get("method") == "workspace/executeCommand"]

    def methods(self) -> list[str]:
        return [m.get("method", "<response>") for m in self.received]

    # -- the server, on its own thread ----------------------------------------------------------

    async def _start(self, socket_path: Path) -> str:
        if self.transport == "unix":
            self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path))
            return f"unix:{socket_path}"
        self._server = await asyncio.start_server(self._serve, host="127.0.0.1", port=0)
        return f"tcp:127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in self._connections:
            for task in connection.tasks:
                task.cancel()
            connection.writer.close()

    def _record(self, message: dict[str, Any]) -> None:
        with self._changed:
            self.received.append(message)
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        self._connections.append(connection)
        try:
            authenticated = False
            while (message := await _read_message(reader)) is not None:
                self._record(message)
                if not authenticated:
                    if not self._authenticate(connection, message):
                        return
                    authenticated = True
                    continue
                method = message.get("method")
                if method is None:
                    continue  # a response to one of our requests
                if "id" not in message:
                    if method == "exit":
                        return
                    continue
                if method == "shutdown":
                    connection.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                elif method == "workspace/executeCommand":
                    task = asyncio.ensure_future(self._answer(connection, message))
                    connection.tasks.add(task)
                    task.add_done_callback(connection.tasks.discard)
                else:
                    connection.send(
                        {
                            "jsonrpc": "2.0",
                            "id": message["id"],
                            "error": {"code": -32601, "message": f"Method not found: {method}"},
                        }
                    )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _authenticate(self, connection: _Connection, message: dict[str, Any]) -> bool:
        if not self.answer_initialize:
            return True  # authenticated, but the answer never comes
        params = message.get("params") or {}
        options = params.get("initializationOptions") or {}
        if message.get("method") != "initialize" or options.get("token") != self.token:
            connection.send(
                {
                    "jsonrpc": "2.0",
                    "id": message.get("id"),
                    "error": {"code": -32005, "message": "not authorised: wrong or missing token"},
                }
            )
            return False
        connection.subscribed = "taskEvents" in (options.get("subscribe") or [])
        connection.send(
            {
                "jsonrpc": "2.0",
                "id": message["id"],
                "result": {
                    "capabilities": {
                        "executeCommandProvider": {
                            "commands": ["clineBridge.startNewTask", "clineBridge.status"]
                        }
                    },
                    "serverInfo": {"name": "cline-bridge", "version": "0.1.0"},
                },
            }
        )
        return True

    async def _answer(self, connection: _Connection, message: dict[str, Any]) -> None:
        params = message["params"]
        command = params["command"]
        reply = self.script.get(command) or Reply(
            result=STATUS if command == "clineBridge.status" else DISPATCHED
        )
        if reply.close:
            connection.writer.close()
            return
        token = params.get("workDoneToken")
        if token is not None:
            progress = [{"kind": "begin", "title": "Cline chat"}]
            progress += [{"kind": "report", "message": text} for text in reply.progress]
            progress.append({"kind": "end"})
            for value in progress:
                connection.send(
                    {
                        "jsonrpc": "2.0",
                        "method": "$/progress",
                        "params": {"token": token, "value": value},
                    }
                )
                await asyncio.sleep(reply.delay)
        await self._send_events(reply.events_before, reply.event_delay)
        if reply.hang:
            await asyncio.Event().wait()
        if reply.error is not None:
            connection.send({"jsonrpc": "2.0", "id": message["id"], "error": reply.error})
        else:
            connection.send({"jsonrpc": "2.0", "id": message["id"], "result": reply.result})
        await self._send_events(reply.events_after, reply.event_delay)

    async def _send_events(self, events: Sequence[dict[str, Any]], delay: float) -> None:
        for params in events:
            if delay:
                await asyncio.sleep(delay)
            for connection in self._connections:
                if connection.subscribed:
                    connection.send(
                        {"jsonrpc": "2.0", "method": "clineBridge/taskEvent", "params": params}
                    )


async def _read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    length = None
    while True:
        line = await reader.readline()
        if not line:
            return None
        if line == b"\r\n":
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    assert length is not None, "a frame without Content-Length"
    message = json.loads(await reader.readexactly(length))
    assert isinstance(message, dict)
    return message
