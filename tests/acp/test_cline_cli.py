"""The real Cline CLI (``cline --acp``) against the fake model server, through the raw driver.

These prove the ACP test bed itself: the isolated home reaches the fake, the fake's replies drive
the agent (text, the file tool, cancellation), and nothing is left running. Each takes about a
second, most of it the agent's start-up.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI, text_turn, write_file
from tests.support.acp_driver import AcpDriver, AcpError, select
from tests.support.cline_env import ClineHome, cline_leak_guard, cline_processes

pytestmark = pytest.mark.timeout(120)


async def open_session(agent: AcpDriver, home: ClineHome, model: str | None = None) -> str:
    await agent.initialize()
    session = await agent.new_session(home.workspace)
    if model is not None:
        await agent.set_config(session, "model", model)
    return session


async def test_a_text_turn_streams_the_fakes_answer(
    cline_agent: AcpDriver, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    fake_model.script(text_turn("Hello", ", tests"))
    session = await open_session(cline_agent, cline_home)

    assert await cline_agent.prompt(session, "Say hello to the tests") == "end_turn"

    chunks = cline_agent.updates_of("agent_message_chunk")
    assert [chunk["content"] for chunk in chunks] == [
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": ", tests"},
    ]
    [request] = fake_model.chat_requests
    assert request.path == "/api/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.user_text == "Say hello to the tests"
    assert request.messages[0]["role"] == "system"


@pytest.mark.parametrize(
    ("model", "tool", "kind"),
    [(None, "apply_patch", "other"), ("fake-model", "editor", "edit")],
    ids=["default-model-apply_patch", "fake-model-editor"],
)
async def test_write_file_creates_exactly_the_content_once_allowed(
    cline_agent: AcpDriver,
    cline_home: ClineHome,
    fake_model: FakeClineAPI,
    model: str | None,
    tool: str,
    kind: str,
) -> None:
    target = cline_home.workspace / "notes" / "hello.txt"
    content = "hello\n\nworld\n"
    fake_model.script(write_file(target, content), text_turn("Done."))
    cline_agent.on_permission = select("allow_once")
    session = await open_session(cline_agent, cline_home, model)

    assert await cline_agent.prompt(session, "Create notes/hello.txt") == "end_turn"

    assert target.read_text() == content
    [permission] = cline_agent.permission_requests
    assert permission["toolCall"]["kind"] == kind
    assert permission["toolCall"]["title"].startswith(f"{tool}: ")
    first, second = fake_model.chat_requests
    assert tool in first.tool_names
    [result] = second.tool_results
    assert result["success"] is True
    assert cline_agent.agent_text() == "Done."


async def test_write_file_fails_the_prompt_loudly_when_no_file_tool_is_offered(
    cline_agent: AcpDriver, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    fake_model.script(write_file(cline_home.workspace / "plan.txt", "x"))
    session = await open_session(cline_agent, cline_home)
    await cline_agent.set_config(session, "mode", "plan")  # plan mode offers no file tool

    with pytest.raises(AcpError, match="needs the tool editor or apply_patch") as raised:
        await cline_agent.prompt(session, "Write plan.txt")

    assert raised.value.code == -32603
    assert len(fake_model.problems) == 1
    assert not (cline_home.workspace / "plan.txt").exists()


async def test_an_unscripted_request_fails_the_prompt_at_once(
    cline_agent: AcpDriver, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    session = await open_session(cline_agent, cline_home)
    started = time.monotonic()

    with pytest.raises(AcpError, match="no reply scripted for POST /api/v1/chat/completions"):
        await cline_agent.prompt(session, "Anybody there?")

    assert time.monotonic() - started < 10  # a 5xx would be retried for ~62 s
    assert len(fake_model.chat_requests) == 1


async def test_cancel_while_the_answer_streams(
    cline_agent: AcpDriver, cline_home: ClineHome, fake_model: FakeClineAPI
) -> None:
    gate = threading.Event()
    fake_model.script(text_turn("partial", " never sent", gate=gate, gate_after=2))
    session = await open_session(cline_agent, cline_home)

    turn = asyncio.create_task(cline_agent.prompt(session, "Tell me a long story"))
    await cline_agent.wait_for(lambda: cline_agent.agent_text() == "partial", what="first chunk")
    await cline_agent.cancel(session)

    assert await turn == "cancelled"
    [request] = fake_model.chat_requests
    # The agent aborts the HTTP stream; the held reply notices the hang-up.
    assert await asyncio.to_thread(request.finished.wait, 5)
    assert request.outcome == "client disconnected"
    assert cline_agent.agent_text() == "partial"


async def test_the_leak_guard_kills_and_names_a_leftover_agent(
    cline_home: ClineHome, tmp_path: Path
) -> None:
    agent = await AcpDriver.start(
        cline_home.command, env=cline_home.spawn_env(), cwd=cline_home.workspace
    )
    try:
        found = cline_processes(cline_home.binary, [tmp_path])
        assert [process.pid for process in found] == [agent.process.pid]
        # Someone else's agent (not our child, nothing under our folders) is none of our business.
        assert cline_processes(cline_home.binary, [], ancestor=-1) == []

        named = rf"left running \(killed\): pid {agent.process.pid}: "
        guard = cline_leak_guard(cline_home.binary, [tmp_path], grace=0.2)
        with pytest.raises(AssertionError, match=named), guard:
            pass
        assert await asyncio.wait_for(agent.process.wait(), 5) == -signal.SIGKILL
    finally:
        await agent.close()
