"""A minimal raw ACP client: the "drive ``cline --acp`` directly" baseline for tests and benchmarks.

Newline-delimited JSON-RPC 2.0 over the agent's stdin and stdout (reference cline-acp.md §4, §12).
The agent numbers its own requests from 0, independently of ours, so incoming messages are told
apart by ``method``, never by id. It asks the client only for ``session/request_permission``,
which ``on_permission`` answers; anything else gets -32601. Every call is bounded by a timeout,
and ``close`` ends the agent by closing its stdin, killing it by pid only if it does not exit.

It deliberately imports nothing from cline_bridge, so a benchmark can compare the sidecar with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

TIMEOUT = 30.0
"""Default bound for one call, in seconds."""
CLOSE_TIMEOUT = 10.0
LINE_LIMIT = 16 * 1024 * 1024
"""Largest line the reader accepts (asyncio's 64 KiB default is too small for long histories)."""

PermissionAnswer = Mapping[str, Any]
"""The ``outcome`` object of a permission reply, e.g. ``{"outcome": "cancelled"}``."""
PermissionHandler = Callable[[dict[str, Any]], PermissionAnswer | Awaitable[PermissionAnswer]]
"""Called with a ``session/request_permission`` request's params; returns (or awaits) the
outcome. Awaiting lets a test hold an approval open, e.g. to cancel while it is pending."""


def select(option_id: str) -> PermissionHandler:
    """A permission policy that always picks ``option_id`` (``allow_once``, ``reject_once``…)."""
    return lambda params: {"outcome": "selected", "optionId": option_id}


def cancel_permission(params: dict[str, Any]) -> PermissionAnswer:
    """The default policy: answer every permission request with ``cancelled``."""
    return {"outcome": "cancelled"}


class AcpError(Exception):
    """The agent answered a request with a JSON-RPC error."""

    def __init__(self, method: str, error: Mapping[str, Any]) -> None:
        self.method = method
        self.code: int | None = error.get("code")
        self.error_message: str = str(error.get("message", ""))
        self.data: Any = error.get("data")
        super().__init__(f"{method} failed: {dict(error)}")


class AgentExited(ConnectionError):
    """The agent's stdout closed while a call waited for its answer."""


class AcpDriver:
    """One running ACP agent and the client side of its connection.

    ``updates`` holds every ``session/update`` params object in arrival order;
    ``permission_requests`` every ``session/request_permission`` params object.
    """

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        *,
        on_permission: PermissionHandler = cancel_permission,
        stderr_path: Path | None = None,
    ) -> None:
        self.process = process
        self.on_permission = on_permission
        self.stderr_path = stderr_path
        self.updates: list[dict[str, Any]] = []
        self.permission_requests: list[dict[str, Any]] = []
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._next_id = 0
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def start(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        on_permission: PermissionHandler = cancel_permission,
        stderr_path: Path | None = None,
    ) -> AcpDriver:
        """Spawn ``command`` (stderr to ``stderr_path``, else discarded) and connect to it."""
        with contextlib.ExitStack() as stack:
            stderr: Any = asyncio.subprocess.DEVNULL
            if stderr_path is not None:
                stderr = stack.enter_context(stderr_path.open("ab"))
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                limit=LINE_LIMIT,
            )
        return cls(process, on_permission=on_permission, stderr_path=stderr_path)

    async def __aenter__(self) -> AcpDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- calls ---------------------------------------------------------------------------------

    async def request(self, method: str, params: Any = None, *, timeout: float = TIMEOUT) -> Any:
        """Send a request and return its ``result``; raise AcpError on an error answer."""
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        try:
            message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
            await self._send(message)
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: Any = None) -> None:
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def initialize(self, *, timeout: float = TIMEOUT) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "initialize",
            {"protocolVersion": 1, "clientCapabilities": {}},
            timeout=timeout,
        )
        return result

    async def new_session(self, cwd: str | os.PathLike[str], *, timeout: float = TIMEOUT) -> str:
        """``session/new`` in ``cwd``; returns the session id."""
        result = await self.request(
            "session/new", {"cwd": os.fspath(cwd), "mcpServers": []}, timeout=timeout
        )
        return str(result["sessionId"])

    async def set_config(
        self, session_id: str, config_id: str, value: Any, *, timeout: float = TIMEOUT
    ) -> Any:
        """``session/set_config_option``, e.g. ``("model", "fake-model")``."""
        params = {"sessionId": session_id, "configId": config_id, "value": value}
        return await self.request("session/set_config_option", params, timeout=timeout)

    async def prompt(
        self,
        session_id: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        timeout: float = TIMEOUT,
    ) -> str:
        """Run one turn; returns its ``stopReason``. A string is sent as one text block."""
        blocks = [{"type": "text", "text": prompt}] if isinstance(prompt, str) else list(prompt)
        params = {"sessionId": session_id, "prompt": blocks}
        result = await self.request("session/prompt", params, timeout=timeout)
        return str(result["stopReason"])

    async def cancel(self, session_id: str) -> None:
        """``session/cancel``. Pending permissions are left to ``on_permission``, which should
        answer ``cancelled`` from now on (the agent does not withdraw them itself)."""
        await self.notify("session/cancel", {"sessionId": session_id})

    # -- what the agent sent ---------------------------------------------------------------------

    def updates_of(self, kind: str) -> list[dict[str, Any]]:
        """The ``update`` of each ``session/update`` so far whose ``sessionUpdate`` is ``kind``."""
        return [
            params["update"]
            for params in self.updates
            if isinstance(params.get("update"), dict)
            and params["update"].get("sessionUpdate") == kind
        ]

    def agent_text(self) -> str:
        """The text of every ``agent_message_chunk`` so far, concatenated."""
        return "".join(
            str(update.get("content", {}).get("text", ""))
            for update in self.updates_of("agent_message_chunk")
        )

    async def wait_for(
        self, condition: Callable[[], Any], *, timeout: float = TIMEOUT, what: str = "a condition"
    ) -> Any:
        """Wait until ``condition()`` is truthy (checked on each incoming message); return it."""

        async def wait() -> Any:
            async with self._changed:
                while not (result := condition()):
                    if self._reader.done():
                        raise AgentExited(f"the agent exited while waiting for {what}")
                    await self._changed.wait()
                return result

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}") from None

    def stderr_tail(self, lines: int = 40) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])

    # -- shutdown ---------------------------------------------------------------------------------

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> int:
        """Close stdin and wait up to ``timeout`` for the exit; kill by pid if it does not come.
        Returns the exit code."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
            with contextlib.suppress(ConnectionError):
                await stdin.wait_closed()
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            code = await self.process.wait()
        for task in [self._reader, *self._tasks]:
            task.cancel()
        await asyncio.gather(self._reader, *self._tasks, return_exceptions=True)
        return code

    # -- the connection ---------------------------------------------------------------------------

    async def _send(self, message: Mapping[str, Any]) -> None:
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            raise AgentExited("the agent's stdin is closed")
        stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await stdin.drain()

    async def _read_loop(self) -> None:
        assert self.process.stdout is not None
        try:
            while line := await self.process.stdout.readline():
                if line.strip():
                    await self._dispatch(json.loads(line))
        finally:
            for method, future in self._pending.values():
                if not future.done():
                    future.set_exception(AgentExited(f"the agent exited before answering {method}"))
            async with self._changed:
                self._changed.notify_all()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:  # a response to one of ours
            pending = self._pending.get(message.get("id", -1))
            if pending is not None and not pending[1].done():
                name, future = pending
                if "error" in message:
                    future.set_exception(AcpError(name, message["error"]))
                else:
                    future.set_result(message.get("result"))
        elif "id" in message:  # a request from the agent
            task = asyncio.create_task(self._answer(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif method == "session/update":
            self.updates.append(message.get("params") or {})
        async with self._changed:
            self._changed.notify_all()

    async def _answer(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if message["method"] == "session/request_permission":
            params = message.get("params") or {}
            self.permission_requests.append(params)
            async with self._changed:
                self._changed.notify_all()
            try:
                answer = self.on_permission(params)
                if inspect.isawaitable(answer):
                    answer = await answer
                reply["result"] = {"outcome": dict(answer)}
            except Exception as error:  # a broken policy must not leave the agent waiting
                reply["error"] = {"code": -32603, "message": f"permission handler failed: {error}"}
        else:
            reply["error"] = {"code": -32601, "message": f"Method not found: {message['method']}"}
        with contextlib.suppress(AgentExited, ConnectionError):
            await self._send(reply)
