"""The ACP host's failure paths, through the real sidecar, with a scripted fake agent.

The agent is tests/fakes/acp_agent.py (``acp.command``), one scenario per test; it records what
it receives to a file named in ``acp.env``. The sidecar runs with ``--log-level debug`` and its
stderr is kept, so that the tests can read what it logged. Not here: an agent that ignores its
closed stdin at shutdown (the sidecar waits 5 s before killing it); test_connection.py here
covers that with the grace shortened.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pygls.client import JsonRPCClient
from pytest_lsp import ClientServerConfig, LanguageClient

from cline_bridge.sidecar.hosts.acp.connection import EXIT_GRACE_SECONDS
from tests.fakes import acp_agent
from tests.support.acp_editor import AcpEditor
from tests.support.sidecar import SERVER_COMMAND, execute, execute_error

START = "clineBridge.startNewTask"
SEND = "clineBridge.sendMessage"
PRIMARY = "clineBridge.pressPrimaryButton"
STATUS = "clineBridge.status"
TIMEOUT = 5.0
"""Seconds any one step may take: the fake agent starts in tens of milliseconds."""
SECRET = "sk-secret-123"


class SidecarEditor(AcpEditor):
    """The editor, keeping the sidecar's stderr lines (still echoed to the test's stderr)."""

    def __init__(self) -> None:
        super().__init__()
        self.stderr_lines: list[str] = []
        self.record = Path()
        """Where the fake agents record what they receive (set by the fixture)."""
        self.workspace = Path()
        self._stderr_reader: asyncio.Task[None] | None = None
        self._shut_down = False

    async def start_io(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        # pygls's start, without pytest-lsp's stderr forwarder: this reader takes its place.
        await JsonRPCClient.start_io(self, cmd, *args, **kwargs)
        assert self._server is not None
        assert self._server.stderr is not None
        self._stderr_reader = self._stderr_forwarder = asyncio.ensure_future(
            self._read_stderr(self._server.stderr)
        )

    async def _read_stderr(self, stderr: asyncio.StreamReader) -> None:
        while line := await stderr.readline():
            sys.stderr.buffer.write(line)
            self.stderr_lines.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines)

    async def initialize_with(self, scenario: str, env: dict[str, str] | None = None) -> None:
        """Initialize as an editor without ClineAPI whose Cline CLI is the fake agent."""
        await asyncio.wait_for(
            self.initialize_session(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(),
                    client_info=types.ClientInfo(name="acp-failure-test"),
                    root_uri=self.workspace.as_uri(),
                    initialization_options={
                        "acp": {
                            "command": acp_agent.command(scenario),
                            "env": {"ACP_FAKE_RECORD": str(self.record), **(env or {})},
                        },
                        "control": False,
                    },
                )
            ),
            TIMEOUT,
        )

    async def shutdown_request(self) -> None:
        """Only ``shutdown``: the sidecar has released the agent when it answers."""
        self._shut_down = True
        await asyncio.wait_for(self.shutdown_async(None), TIMEOUT)

    async def close(self) -> None:
        """End the sidecar (``shutdown`` if not sent, ``exit``) and read its stderr to the end."""
        server = self._server
        assert server is not None
        if server.returncode is None:
            if self.capabilities is None:  # never initialized: nothing to shut down politely
                server.kill()
            else:
                if not self._shut_down:
                    await self.shutdown_request()
                self.exit(None)
        await asyncio.wait_for(server.wait(), TIMEOUT)
        if self._stderr_reader is not None:
            await asyncio.wait_for(self._stderr_reader, TIMEOUT)

    def agent_pids(self) -> set[int]:
        return {entry["pid"] for entry in acp_agent.read_record(self.record)}

    def received(self, pid: int) -> list[dict[str, Any]]:
        """The messages the agent ``pid`` received, in order."""
        return [
            entry["message"]
            for entry in acp_agent.read_record(self.record)
            if entry["pid"] == pid and "message" in entry
        ]


async def _run_sidecar(client: SidecarEditor, tmp_path: Path) -> AsyncIterator[None]:
    """A sidecar not yet initialized (each test names the agent's scenario); at the end, the
    sidecar is gone and so is every fake agent it started."""
    client.record = tmp_path / "agent-record.jsonl"
    client.workspace = tmp_path / "workspace"
    client.workspace.mkdir()
    yield
    await client.close()
    leftover = [pid for pid in client.agent_pids() if not acp_agent.process_gone(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert leftover == [], "fake agents outlived the sidecar"
    # A failure of the agent is an answer or an event, never a fault of the sidecar.
    assert "Traceback" not in client.stderr_text


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[*SERVER_COMMAND, "--log-level", "debug"], client_factory=SidecarEditor
    )
)
async def editor(lsp_client: SidecarEditor, tmp_path: Path) -> AsyncIterator[None]:
    """The sidecar logging everything, the agent's stderr included."""
    async for _ in _run_sidecar(lsp_client, tmp_path):
        yield


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=SidecarEditor)
)
async def quiet_editor(lsp_client: SidecarEditor, tmp_path: Path) -> AsyncIterator[None]:
    """The sidecar at its default log level."""
    async for _ in _run_sidecar(lsp_client, tmp_path):
        yield


async def _status(client: LanguageClient) -> dict[str, Any]:
    status: dict[str, Any] = await asyncio.wait_for(execute(client, STATUS), TIMEOUT)
    return status


async def _execute_error(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await asyncio.wait_for(execute_error(client, command, *arguments), TIMEOUT)


async def _execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await asyncio.wait_for(execute(client, command, *arguments), TIMEOUT)


def _pid_in(message: str) -> int:
    found = re.search(r"\(pid (\d+)\)", message)
    assert found is not None, message
    return int(found.group(1))


async def test_an_agent_that_exits_at_once_fails_the_task_and_the_sidecar_goes_on(
    editor: SidecarEditor,
) -> None:
    await editor.initialize_with("exit")

    error = await _execute_error(editor, START, "hello")

    assert error.code == -32002
    assert error.message.startswith("The Cline agent could not start in ACP mode: ")
    assert f"exited with status {acp_agent.EXIT_STATUS}" in error.message
    assert f"its last words: {acp_agent.EXIT_WORDS}" in error.message
    status = await _status(editor)
    assert (status["host"], status["acp"]["agentPid"], status["acp"]["state"]) == (
        "acp",
        None,
        "none",
    )
    assert status["acp"]["command"] == " ".join(acp_agent.command("exit"))

    again = await _execute_error(editor, START, "hello again")  # a new agent is tried

    assert again.code == -32002
    assert f"exited with status {acp_agent.EXIT_STATUS}" in again.message
    first, second = _pid_in(error.message), _pid_in(again.message)
    assert first != second
    assert acp_agent.process_gone(first)
    assert acp_agent.process_gone(second)
    assert editor.events == []  # no task was ever started


async def test_an_agent_that_wants_authentication_gets_the_cline_auth_hint(
    editor: SidecarEditor,
) -> None:
    await editor.initialize_with("auth")

    error = await _execute_error(editor, START, "hello")

    assert error.code == -32002
    assert error.message.startswith(
        "The Cline agent could not start a session: Authentication required: "
        "Call authenticate before starting a session."
    )
    assert "`cline auth`" in error.message
    assert "CLINE_API_KEY" in error.message
    assert error.data == {"method": "session/new", "code": -32000}
    assert editor.events == []
    # The agent itself is fine: it stays for the next try, which fails the same way.
    pid = (await _status(editor))["acp"]["agentPid"]
    assert isinstance(pid, int)
    assert (await _execute_error(editor, START, "hello")).code == -32002
    assert (await _status(editor))["acp"]["agentPid"] == pid


async def test_lines_that_are_not_json_rpc_are_skipped(editor: SidecarEditor) -> None:
    await editor.initialize_with("garbage")

    started = await _execute(editor, START, "hello")
    task_id = started["taskId"]
    end = await editor.wait_for_event("turnEnd", taskId=task_id, timeout=TIMEOUT)

    assert started["action"] == "started"
    assert end["stopReason"] == "end_turn"
    assert end["state"] == "idle"
    assert editor.kinds(task_id) == ["started", "turnStart", "message", "turnEnd"]
    assert [e["text"] for e in editor.events if e["kind"] == "message"] == [acp_agent.REPLY_TEXT]
    assert "the Cline agent wrote a line that is not JSON; ignored" in editor.stderr_text


async def test_an_agent_request_other_than_a_permission_gets_method_not_found(
    editor: SidecarEditor,
) -> None:
    await editor.initialize_with("client-request")

    task_id = (await _execute(editor, START, "read a file"))["taskId"]
    end = await editor.wait_for_event("turnEnd", taskId=task_id, timeout=TIMEOUT)

    assert end["stopReason"] == "end_turn"
    [pid] = editor.agent_pids()
    [answer] = [
        message
        for message in editor.received(pid)
        if message.get("id") == acp_agent.CLIENT_REQUEST_ID
    ]
    assert answer["error"] == {"code": -32601, "message": "Method not found: fs/read_text_file"}
    assert "result" not in answer
    assert [e["kind"] for e in editor.events if e["kind"] == "approval"] == []


async def test_an_agent_that_dies_while_idle_is_replaced_and_the_session_reloaded(
    editor: SidecarEditor,
) -> None:
    await editor.initialize_with("normal")
    task_id = (await _execute(editor, START, "first"))["taskId"]
    await editor.wait_for_event("turnEnd", taskId=task_id, state="idle", timeout=TIMEOUT)
    first_pid = (await _status(editor))["acp"]["agentPid"]
    assert isinstance(first_pid, int)

    os.kill(first_pid, signal.SIGTERM)  # it says its last words and exits with status 7
    error = await editor.wait_for_event("error", taskId=task_id, timeout=TIMEOUT)

    assert error["state"] == "failed"
    assert error["code"] is None
    assert error["message"].startswith(
        f"The Cline agent (pid {first_pid}) exited with status {acp_agent.TERM_STATUS}; "
        f"its last words: {acp_agent.TERM_WORDS}. Send a message"
    )
    status = await _status(editor)
    assert (status["acp"]["agentPid"], status["acp"]["taskId"], status["acp"]["state"]) == (
        None,
        task_id,
        "failed",
    )
    errors_seen = len(editor.events)

    sent = await _execute(editor, SEND, "second")

    assert sent == {"host": "acp", "taskId": task_id, "state": "running", "action": "sent"}
    end = await editor.wait_for_event(
        "turnEnd", taskId=task_id, turn=2, after=errors_seen, timeout=TIMEOUT
    )
    assert (end["stopReason"], end["state"]) == ("end_turn", "idle")
    assert editor.kinds(task_id)[errors_seen:] == ["turnStart", "message", "turnEnd"]
    # The replayed history of the loaded session is not news.
    texts = [e.get("text") for e in editor.events]
    assert acp_agent.REPLAYED_TEXT not in texts
    second_pid = (await _status(editor))["acp"]["agentPid"]
    assert second_pid not in (None, first_pid)
    assert acp_agent.process_gone(first_pid)
    received = editor.received(second_pid)
    assert [message.get("method") for message in received] == [
        "initialize",
        "session/load",
        "session/prompt",
    ]
    load, prompt = received[1]["params"], received[2]["params"]
    assert load == {"sessionId": task_id, "cwd": str(editor.workspace), "mcpServers": []}
    assert prompt == {"sessionId": task_id, "prompt": [{"type": "text", "text": "second"}]}


async def test_the_primary_button_retries_a_task_whose_agent_died(editor: SidecarEditor) -> None:
    await editor.initialize_with("normal")
    task_id = (await _execute(editor, START, "first"))["taskId"]
    await editor.wait_for_event("turnEnd", taskId=task_id, state="idle", timeout=TIMEOUT)
    os.kill((await _status(editor))["acp"]["agentPid"], signal.SIGTERM)
    await editor.wait_for_event("error", taskId=task_id, state="failed", timeout=TIMEOUT)
    errors_seen = len(editor.events)

    retried = await _execute(editor, PRIMARY)  # what the error event tells the user to do

    assert (retried["action"], retried["taskId"]) == ("resumed", task_id)
    start = await editor.wait_for_event("turnStart", taskId=task_id, after=errors_seen)
    assert start["text"] == "[TASK RESUMPTION] Please continue where you left off."


async def test_shutdown_ends_the_agent(editor: SidecarEditor) -> None:
    await editor.initialize_with("normal")
    task_id = (await _execute(editor, START, "hello"))["taskId"]
    await editor.wait_for_event("turnEnd", taskId=task_id, timeout=TIMEOUT)
    pid = (await _status(editor))["acp"]["agentPid"]
    assert isinstance(pid, int)
    [start] = [e for e in acp_agent.read_record(editor.record) if "start" in e]
    # The child ran in the workspace, with the sidecar's defaults for the Cline CLI.
    assert start["cwd"] == str(editor.workspace)
    assert start["env"] == {"CLINE_SESSION_BACKEND_MODE": "local", "CLINE_NO_AUTO_UPDATE": "1"}

    began = time.monotonic()
    await editor.shutdown_request()

    # It stopped on its closed stdin, before the sidecar itself exits: no grace, no kill.
    assert time.monotonic() - began < EXIT_GRACE_SECONDS
    assert acp_agent.process_gone(pid)
    await editor.close()
    assert f"the Cline agent (pid {pid}) stopped" in editor.stderr_text
    assert "killing it" not in editor.stderr_text


async def test_secrets_from_acp_env_never_reach_the_log_or_the_answers(
    editor: SidecarEditor,
) -> None:
    await editor.initialize_with("leak", {"CLINE_API_KEY": SECRET})

    error = await _execute_error(editor, START, "hello")
    await editor.close()  # the agent's last stderr line comes as it exits

    assert error.code == -32002
    assert error.message.startswith("The Cline agent could not start a session: bad key ***.")
    assert SECRET not in error.message
    assert "agent: starting with key ***" in editor.stderr_text
    assert "agent: bye, key ***" in editor.stderr_text
    # pygls logs the initialize params whole (acp.env included); the value is blanked there too.
    assert SECRET not in editor.stderr_text
    assert "'CLINE_API_KEY': '***'" in editor.stderr_text
    assert [m.message for m in editor.log_messages if "bad key ***" in m.message]
    assert [m.message for m in editor.log_messages if SECRET in m.message] == []


async def test_secrets_are_nowhere_in_the_default_log(quiet_editor: SidecarEditor) -> None:
    await quiet_editor.initialize_with("leak", {"CLINE_API_KEY": SECRET})

    error = await _execute_error(quiet_editor, START, "hello")
    await quiet_editor.close()

    assert "bad key ***" in error.message
    assert "answered -32002: The Cline agent could not start a session: bad key ***." in (
        quiet_editor.stderr_text
    )
    assert SECRET not in quiet_editor.stderr_text
