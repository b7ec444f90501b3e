"""One running ``cline --acp`` child and the JSON-RPC connection over its stdio.

ACP frames are one JSON object per line in both directions: this module reads and writes the
lines, and the JSON-RPC bookkeeping is the shared ``wire.peer.JsonRpcPeer``'s. The agent's requests
are numbered from 0 independently of ours, so messages are told apart by their ``method``, never
by the id.

Why not the Python ACP SDK (``agent-client-protocol``): the sidecar uses five methods of the
protocol, answers permission requests later (from a button command or a dialog, not from inside a
callback) and must answer them ``cancelled`` itself after a cancel. A hundred lines of NDJSON keep
that under our control, and the editor path loads no pydantic models (the SDK's schema module is
large, and the sidecar's start-up and memory are measured).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from cline_bridge.processes import kill_group, own_group
from cline_bridge.sidecar.hosts.acp.launch import AgentLaunch
from cline_bridge.sidecar.termination import on_signal_end
from cline_bridge.wire.peer import JsonRpcPeer

logger = logging.getLogger(__name__)

# An agent line can carry a replayed image; asyncio's default 64 KiB line limit is too small.
LINE_LIMIT = 64 * 1024 * 1024
# How long the agent gets to exit after its stdin closes (it takes well under 0.1 s) before the
# sidecar ends it by signal.
EXIT_GRACE_SECONDS = 5.0
STDERR_LINES_KEPT = 20

RequestHandler = Callable[[Any, str, Any], None]
"""Called with (request id, method, params) for each request from the agent; it must answer it
later with ``respond`` or ``respond_error``."""
NotificationHandler = Callable[[str, Any], None]
ExitHandler = Callable[["AgentExited"], None]


class AgentError(Exception):
    """The agent answered a request with a JSON-RPC error."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} ({code})")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class AgentExited(Exception):
    """The agent process ended (or could not start); ``str()`` says how, in one sentence."""


class AgentConnection:
    """The agent process and its protocol stream. Create with ``await AgentConnection.start()``."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        launch: AgentLaunch,
        on_request: RequestHandler,
        on_notification: NotificationHandler,
        on_exit: ExitHandler,
    ) -> None:
        self._process = process
        self._launch = launch
        self._on_exit = on_exit
        self._peer = JsonRpcPeer(
            self._write,
            error_factory=self._agent_error,
            on_request=on_request,
            on_notification=on_notification,
        )
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        # A signal that ends the sidecar (SIGTERM from the editor) ends the agent's group too;
        # forgotten once the agent is gone, before its pid can be reused.
        self._forget_on_signal = on_signal_end(lambda: kill_group(process.pid))
        self._closing = False
        self.exited: AgentExited | None = None
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = (
            asyncio.ensure_future(self._read_stdout(process.stdout)),
            asyncio.ensure_future(self._read_stderr(process.stderr)),
        )
        self._watcher = asyncio.ensure_future(self._watch())

    @classmethod
    async def start(
        cls,
        launch: AgentLaunch,
        on_request: RequestHandler,
        on_notification: NotificationHandler,
        on_exit: ExitHandler,
    ) -> AgentConnection:
        """Spawn the agent. Raises ``AgentExited`` when the program cannot be started."""
        try:
            process = await asyncio.create_subprocess_exec(
                *launch.command,
                cwd=launch.cwd,
                env=dict(launch.env),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
                # Its own process group: a Ctrl-C in the sidecar's terminal is the sidecar's to
                # handle, and shutdown can end the agent together with anything it spawned.
                **own_group(),
            )
        except OSError as error:
            raise AgentExited(
                f"The Cline CLI could not be started ({launch.describe()}): "
                f"{error.strerror or error}"
            ) from None
        logger.info("started the Cline agent, pid %d: %s", process.pid, launch.describe())
        return cls(process, launch, on_request, on_notification, on_exit)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self.exited is None and not self._closing

    async def request(self, method: str, params: Mapping[str, Any], timeout: float | None) -> Any:
        """Send a request, wait for its result; raises ``AgentError`` or ``AgentExited``."""
        if self.exited is not None:
            raise self.exited
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request_id = self._peer.request(method, params, future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            raise AgentExited(
                f"The Cline agent did not answer {method} within {timeout:g} s"
            ) from None
        finally:
            self._peer.forget(request_id)

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self._peer.notify(method, params)

    def respond(self, request_id: Any, result: Any) -> None:
        self._peer.respond(request_id, result)

    def respond_error(self, request_id: Any, code: int, message: str) -> None:
        self._peer.respond_error(request_id, {"code": code, "message": message})

    async def close(self) -> None:
        """End the agent: close its stdin, wait briefly, then signal its process group."""
        if self._closing:
            return
        self._closing = True
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._watcher), EXIT_GRACE_SECONDS)
        except asyncio.TimeoutError:
            logger.warning(
                "the Cline agent (pid %d) ignored its closed stdin; killing it", self.pid
            )
            kill_group(self.pid)
            await asyncio.wait_for(asyncio.shield(self._watcher), EXIT_GRACE_SECONDS)
        # Anything the agent left in its group (it should leave nothing) goes with it.
        kill_group(self.pid)

    def _write(self, message: Mapping[str, Any]) -> None:
        stdin = self._process.stdin
        if self.exited is not None or stdin is None or stdin.is_closing():
            raise self.exited or AgentExited("The Cline agent is shutting down")
        stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def _read_stdout(self, stdout: asyncio.StreamReader) -> None:
        while line := await stdout.readline():
            try:
                message = json.loads(line)
            except ValueError:
                logger.warning("the Cline agent wrote a line that is not JSON; ignored")
                continue
            self._peer.receive(message)

    async def _read_stderr(self, stderr: asyncio.StreamReader) -> None:
        while line := await stderr.readline():
            text = self._launch.redact(line.decode(errors="replace").rstrip())
            if text:
                self._stderr_tail.append(text)
                logger.debug("agent: %s", text)

    def _agent_error(self, method: str, error: Any) -> AgentError:
        """The exception for the agent's error answer to ``method``."""
        fields = error if isinstance(error, dict) else {}
        code = fields.get("code")
        data = fields.get("data")
        detail = data.get("message") if isinstance(data, dict) else None
        return AgentError(
            method,
            code if isinstance(code, int) and not isinstance(code, bool) else -32603,
            # It ends up in a command's error and the log: keep the keys out, as in the
            # agent's stderr.
            self._launch.redact(str(detail or fields.get("message") or "unknown error")),
            data,
        )

    async def _watch(self) -> None:
        """Wait for the process to end, then fail what waits on it and report the exit."""
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._process.returncode is None and not self._closing:
            # Its stdout ended or broke (a line over LINE_LIMIT) while it runs: nothing more can
            # be read from it, so it is ended rather than left talking to no one.
            kill_group(self.pid)
        status = await self._process.wait()
        self._forget_on_signal()
        self.exited = AgentExited(self._describe_exit(status))
        self._peer.fail_pending(self.exited)
        if self._closing:
            logger.info("the Cline agent (pid %d) stopped", self.pid)
        else:
            logger.warning("%s", self.exited)
            self._on_exit(self.exited)

    def _describe_exit(self, status: int) -> str:
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        last = f"; its last words: {self._stderr_tail[-1]}" if self._stderr_tail else ""
        return f"The Cline agent (pid {self.pid}) {how}{last}"
