"""``apply_session_update``: the agent's ``session/update``s, recorded and sent on as events."""

from __future__ import annotations

from typing import Any

import pytest

from cline_bridge.sidecar.hosts.acp.task import Ask, Task
from cline_bridge.sidecar.hosts.acp.updates import apply_session_update
from cline_bridge.sidecar.task_events import EventStream
from tests.support.published import Published


def _tool_update(update: str, **fields: Any) -> dict[str, Any]:
    return {"sessionUpdate": update, "toolCallId": "t1", **fields}


async def test_tool_call_update_before_its_tool_call_creates_the_record(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")

    apply_session_update(
        task,
        _tool_update(
            "tool_call_update",
            title="Write hello.txt",
            kind="edit",
            status="pending",
            rawInput={"path": "hello.txt"},
        ),
        stream,
    )
    apply_session_update(task, _tool_update("tool_call", status="in_progress"), stream)
    apply_session_update(
        task, _tool_update("tool_call_update", status="completed", rawOutput="ok"), stream
    )

    first, second, third = published.events
    assert first["kind"] == "toolCall"
    assert {key: first[key] for key in ("toolCallId", "title", "toolKind", "status", "input")} == {
        "toolCallId": "t1",
        "title": "Write hello.txt",
        "toolKind": "edit",
        "status": "pending",
        "input": {"path": "hello.txt"},
    }
    # Fields an update does not resend keep their values.
    assert (second["title"], second["toolKind"], second["input"]) == (
        "Write hello.txt",
        "edit",
        {"path": "hello.txt"},
    )
    assert (second["status"], second["output"]) == ("in_progress", None)
    assert (third["status"], third["output"], third["input"]) == (
        "completed",
        "ok",
        {"path": "hello.txt"},
    )
    assert list(task.tool_calls) == ["t1"]
    assert [event["tool"] for event in published.events] == [None, None, None]


async def test_a_tool_call_names_its_tool_as_the_cli_titles_it(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    title = 'editor: {"path":"/w/hello.txt","new_text":"hi\\n"}'

    apply_session_update(
        task,
        _tool_update(
            "tool_call",
            title=title,
            kind="edit",
            status="pending",
            rawInput={"path": "/w/hello.txt", "new_text": "hi\n"},
        ),
        stream,
    )
    apply_session_update(task, _tool_update("tool_call_update", status="completed"), stream)

    assert published.events[0] == {
        "taskId": "s1",
        "seq": 1,
        "kind": "toolCall",
        "state": "idle",
        "toolCallId": "t1",
        "tool": "editor",
        "title": "editor: write /w/hello.txt",
        "toolKind": "edit",
        "status": "pending",
        "input": {"path": "/w/hello.txt", "new_text": "hi\n"},
        "output": None,
    }
    assert published.events[1]["tool"] == "editor", "kept when the update has no title"


async def test_a_permission_request_shares_the_tool_call_record(stream: EventStream) -> None:
    task = Task("s1")
    apply_session_update(task, _tool_update("tool_call", title="Run ls", kind="execute"), stream)

    record = task.tool_call("t1")
    record.merge({"toolCallId": "t1", "rawInput": {"command": "ls"}})

    assert (record.title, record.kind, record.input) == ("Run ls", "execute", {"command": "ls"})


@pytest.mark.parametrize(
    "update",
    [
        {"sessionUpdate": "plan", "entries": []},
        {"sessionUpdate": "something_new_in_acp_2", "text": "?"},
        {"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "me"}},
        {"sessionUpdate": "available_commands_update", "availableCommands": []},
        {"sessionUpdate": "current_mode_update", "currentModeId": "act"},
        {"sessionUpdate": "agent_message_chunk", "content": {"type": "image", "data": "AAAA"}},
        {"sessionUpdate": "agent_message_chunk", "content": "not an object"},
        {"sessionUpdate": "tool_call", "title": "no id"},
        {"sessionUpdate": "tool_call_update", "toolCallId": 7},
        {"no": "kind"},
        "not an object",
        None,
    ],
)
async def test_updates_with_nothing_to_report_are_ignored(
    stream: EventStream, published: Published, update: Any
) -> None:
    task = Task("s1")

    apply_session_update(task, update, stream)
    stream.flush()

    assert published.events == []
    assert task.tool_calls == {}


async def test_message_and_thought_chunks_are_coalesced(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    for kind, text in [
        ("agent_thought_chunk", "Let me "),
        ("agent_thought_chunk", "think."),
        ("agent_message_chunk", "Done"),
        ("agent_message_chunk", "."),
    ]:
        apply_session_update(
            task, {"sessionUpdate": kind, "content": {"type": "text", "text": text}}, stream
        )

    await published.wait(4)
    # Each kind's first text goes at once, the rest at the end of the interval.
    assert published.kinds() == [
        ("thought", "Let me "),
        ("thought", "think."),
        ("message", "Done"),
        ("message", "."),
    ]


async def test_an_open_approval_shows_in_the_state(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    ask = Ask(0, task.tool_call("t1"), [])
    task.asks[ask.ask_id] = ask

    apply_session_update(task, _tool_update("tool_call_update", status="pending"), stream)

    assert published.events[0]["state"] == "awaitingApproval"


async def test_a_status_never_goes_back_and_repeats_send_nothing(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    apply_session_update(task, _tool_update("tool_call_update", status="in_progress"), stream)

    # Cline re-announces an approved call as pending after it reported it in progress.
    apply_session_update(task, _tool_update("tool_call", status="pending"), stream)
    apply_session_update(task, _tool_update("tool_call_update", status="in_progress"), stream)
    apply_session_update(task, _tool_update("tool_call_update", status="failed"), stream)

    assert [event["status"] for event in published.events] == ["in_progress", "failed"]
    assert task.tool_call("t1").status == "failed"
