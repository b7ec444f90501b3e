"""``AgentConnection`` in this process, over the scripted fake agent (tests/fakes/acp_agent.py).

Here, unlike through a sidecar, the exit grace can be shortened: the agent that ignores its
closed stdin is killed after 0.3 s instead of 5 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.sidecar.hosts.acp import connection
from cline_bridge.sidecar.hosts.acp.connection import AgentConnection, AgentError, AgentExited
from cline_bridge.sidecar.hosts.acp.launch import AgentLaunch, plan_launch
from tests.fakes import acp_agent

TIMEOUT = 5.0
SECRET = "sk-secret-123"


class Recorder:
    """The connection's three handlers, recording what the agent sent and how it ended."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, str, Any]] = []
        self.notifications: list[tuple[str, Any]] = []
        self.exits: list[AgentExited] = []

    def on_request(self, request_id: Any, method: str, params: Any) -> None:
        self.requests.append((request_id, method, params))

    def on_notification(self, method: str, params: Any) -> None:
        self.notifications.append((method, params))

    def on_exit(self, exited: AgentExited) -> None:
        self.exits.append(exited)


Start = Callable[..., Awaitable[AgentConnection]]


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.jsonl"


@pytest.fixture
async def start_agent(tmp_path: Path, record: Path, recorder: Recorder) -> AsyncIterator[Start]:
    """Starts the fake agent in a scenario; every agent started is closed at the end."""
    started: list[AgentConnection] = []

    async def start(scenario: str, env: dict[str, str] | None = None) -> AgentConnection:
        launch = plan_launch(
            acp_agent.command(scenario),
            {"ACP_FAKE_RECORD": str(record), **(env or {})},
            os.environ,
            str(tmp_path),
        )
        assert isinstance(launch, AgentLaunch)
        agent = await AgentConnection.start(
            launch, recorder.on_request, recorder.on_notification, recorder.on_exit
        )
        started.append(agent)
        return agent

    yield start
    for agent in started:
        await asyncio.wait_for(agent.close(), 2 * connection.EXIT_GRACE_SECONDS + TIMEOUT)
        assert acp_agent.process_gone(agent.pid)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not acp_agent.process_gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs after {TIMEOUT} s"
        await asyncio.sleep(0.01)


async def _initialize(agent: AgentConnection) -> Any:
    return await agent.request("initialize", {"protocolVersion": 1}, TIMEOUT)


async def test_an_agent_that_ignores_its_closed_stdin_is_killed_after_the_grace(
    start_agent: Start, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(connection, "EXIT_GRACE_SECONDS", 0.3)
    agent = await start_agent("deaf")
    await _initialize(agent)  # it runs, SIGTERM ignored, before it is closed

    began = time.monotonic()
    with caplog.at_level(logging.INFO, logger="cline_bridge"):
        await asyncio.wait_for(agent.close(), TIMEOUT)
    took = time.monotonic() - began

    assert 0.3 <= took < 0.3 + TIMEOUT
    assert acp_agent.process_gone(agent.pid)
    assert f"the Cline agent (pid {agent.pid}) ignored its closed stdin; killing it" in caplog.text
    assert not agent.alive


async def test_an_agent_that_exits_on_closed_stdin_stops_without_a_kill(
    start_agent: Start, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await start_agent("normal")
    await _initialize(agent)

    began = time.monotonic()
    with caplog.at_level(logging.INFO, logger="cline_bridge"):
        await asyncio.wait_for(agent.close(), TIMEOUT)

    assert time.monotonic() - began < connection.EXIT_GRACE_SECONDS
    assert acp_agent.process_gone(agent.pid)
    assert "killing it" not in caplog.text
    assert recorder.exits == []  # a stop that was asked for is no failure to report


async def test_close_also_ends_what_the_agent_started(start_agent: Start, record: Path) -> None:
    agent = await start_agent("grandchild")
    await _initialize(agent)
    [start] = [entry for entry in acp_agent.read_record(record) if "start" in entry]
    grandchild = start["grandchild"]
    assert not acp_agent.process_gone(grandchild)

    await asyncio.wait_for(agent.close(), TIMEOUT)

    await _wait_gone(grandchild)


async def test_an_agent_that_exits_at_once_fails_the_request_naming_its_status(
    start_agent: Start, recorder: Recorder
) -> None:
    agent = await start_agent("exit")

    with pytest.raises(AgentExited) as failed:
        await _initialize(agent)

    expected = (
        f"The Cline agent (pid {agent.pid}) exited with status {acp_agent.EXIT_STATUS}; "
        f"its last words: {acp_agent.EXIT_WORDS}"
    )
    assert str(failed.value) == expected
    assert [str(exited) for exited in recorder.exits] == [expected]
    assert not agent.alive
    with pytest.raises(AgentExited):  # and so does every later request, at once
        await agent.request("session/new", {}, TIMEOUT)


async def test_the_agents_secrets_are_redacted_in_its_errors_and_last_words(
    start_agent: Start, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="cline_bridge"):
        agent = await start_agent("leak", {"CLINE_API_KEY": SECRET})
        await _initialize(agent)
        with pytest.raises(AgentError) as failed:
            await agent.request("session/new", {"cwd": "/", "mcpServers": []}, TIMEOUT)
        await asyncio.wait_for(agent.close(), TIMEOUT)

    assert failed.value.message == "bad key ***"
    assert SECRET not in str(failed.value)
    assert "agent: starting with key ***" in caplog.text
    assert "agent: bye, key ***" in caplog.text
    assert SECRET not in caplog.text


async def test_messages_are_told_apart_by_method_not_by_id(
    start_agent: Start, recorder: Recorder, record: Path
) -> None:
    agent = await start_agent("client-request")
    await _initialize(agent)
    session = await agent.request("session/new", {"cwd": "/", "mcpServers": []}, TIMEOUT)
    prompt = asyncio.ensure_future(
        agent.request("session/prompt", {"sessionId": session["sessionId"], "prompt": []}, None)
    )
    deadline = time.monotonic() + TIMEOUT
    while not recorder.requests:
        assert time.monotonic() < deadline, "the agent's request never arrived"
        await asyncio.sleep(0.01)

    [(request_id, method, params)] = recorder.requests
    assert (request_id, method) == (acp_agent.CLIENT_REQUEST_ID, "fs/read_text_file")
    assert params["sessionId"] == session["sessionId"]
    agent.respond_error(request_id, -32601, "Method not found: fs/read_text_file")

    assert await asyncio.wait_for(prompt, TIMEOUT) == {"stopReason": "end_turn"}
    [(notified, update)] = recorder.notifications
    assert notified == "session/update"
    assert update["update"]["content"]["text"] == acp_agent.REPLY_TEXT
    answer = [
        entry["message"]
        for entry in acp_agent.read_record(record)
        if entry.get("message", {}).get("id") == acp_agent.CLIENT_REQUEST_ID
    ]
    assert answer[0]["error"]["code"] == -32601
