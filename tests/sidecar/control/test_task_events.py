"""Task events reach scripts: a control client that subscribed gets the ACP host's
``clineBridge/taskEvent`` notifications, the same ones the editor gets, in the same order.

The agent is the scripted fake (tests/fakes/acp_agent.py), so this runs in well under a second;
tests/acp runs the same host with the real Cline CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from cline_bridge.client import Bridge
from tests.fakes import acp_agent
from tests.support.acp_editor import AcpEditor
from tests.support.control_sidecar import sidecar_env
from tests.support.sidecar import SERVER_COMMAND, execute

TIMEOUT = 10.0


@pytest_asyncio.fixture
async def acp_editor(runtime_dir: Path, workspace: Path) -> AsyncIterator[AcpEditor]:
    """A sidecar with the ACP host (the fake agent) and its control endpoint on."""
    config = ClientServerConfig(
        server_command=SERVER_COMMAND,
        client_factory=AcpEditor,
        server_env=sidecar_env(runtime_dir),
    )
    editor: Any = await config.start()
    try:
        await editor.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=workspace.as_uri(),
                initialization_options={"acp": {"command": acp_agent.command("normal")}},
            )
        )
        yield editor
        await asyncio.wait_for(editor.shutdown_session(), TIMEOUT)
    finally:
        process = editor._server  # pygls keeps it private
        if process is not None and process.returncode is None:
            process.kill()
        await asyncio.wait_for(editor.stop(), TIMEOUT)


async def test_a_subscribed_script_gets_the_task_events(acp_editor: AcpEditor) -> None:
    status = await execute(acp_editor, "clineBridge.status")
    assert status["host"] == "acp"
    discovery_file = status["control"]["discoveryFile"]

    async with Bridge.connect(discovery_file, subscribe_events=True) as script:
        started = await script.start_new_task("hello from a script")
        task_id = started["taskId"]

        async def until_turn_end() -> list[dict[str, Any]]:
            seen = []
            async for event in script.events():
                seen.append(event)
                if event["kind"] == "turnEnd":
                    return seen
            raise AssertionError(f"the events ended before turnEnd: {seen}")

        received = await asyncio.wait_for(until_turn_end(), TIMEOUT)
        await acp_editor.wait_for_event("turnEnd", taskId=task_id, timeout=TIMEOUT)

    assert started["host"] == "acp"
    assert {event["taskId"] for event in received} == {task_id}
    assert [event["kind"] for event in received] == ["started", "turnStart", "message", "turnEnd"]
    editor_events = [event for event in acp_editor.events if event["taskId"] == task_id]
    assert received == editor_events  # the same events, numbered alike, in the same order


async def test_a_late_subscriber_gets_the_events_from_then_on(acp_editor: AcpEditor) -> None:
    discovery_file = (await execute(acp_editor, "clineBridge.status"))["control"]["discoveryFile"]

    async with Bridge.connect(discovery_file) as script:
        task_id = (await script.start_new_task("hello"))["taskId"]
        await acp_editor.wait_for_event("turnEnd", taskId=task_id, timeout=TIMEOUT)
        with_events = Bridge.connect(discovery_file, subscribe_events=True)
        async with with_events as subscriber:
            next_id = (await script.start_new_task("again"))["taskId"]
            first = await asyncio.wait_for(anext(aiter(subscriber.events())), TIMEOUT)
    assert first["taskId"] == next_id
    assert first["kind"] == "started"
