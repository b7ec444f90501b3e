"""``EventStream`` (numbering, text coalescing) and ``apply_session_update``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cline_bridge.sidecar.hosts.acp import task_events as events
from cline_bridge.sidecar.hosts.acp.task import Ask, Task
from cline_bridge.sidecar.hosts.acp.task_events import EventStream, apply_session_update

Event = dict[str, Any]


class Published:
    """The publish callback: records every event; ``wait`` for the next ones, with a timeout."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    async def wait(self, count: int, timeout: float = 2.0) -> list[Event]:
        """The events once there are ``count`` (text is sent by a timer, so this polls)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{self.events} after {timeout} s"
            await asyncio.sleep(0.005)
        return self.events

    def kinds(self) -> list[tuple[str, Any]]:
        return [(event["kind"], event.get("text")) for event in self.events]


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def stream(published: Published) -> EventStream:
    return EventStream(published)


async def test_chunks_within_the_interval_become_one_message(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")

    for chunk in ("Hel", "lo", "", " world"):
        stream.text(task, "message", chunk)

    # The first text goes at once; what follows within the interval is held, then sent together.
    assert published.kinds() == [("message", "Hel")]
    _first, rest = await published.wait(2)
    assert rest == {
        "taskId": "s1",
        "seq": 2,
        "kind": "message",
        "state": "idle",
        "text": "lo world",
    }
    await asyncio.sleep(events.TEXT_INTERVAL * 2)
    assert len(published.events) == 2


async def test_text_after_the_interval_is_a_new_message(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    stream.text(task, "message", "first")
    await published.wait(1)

    stream.text(task, "message", "second")

    await published.wait(2)
    assert published.kinds() == [("message", "first"), ("message", "second")]


async def test_any_other_event_sends_the_held_text_first(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    stream.text(task, "message", "Creating ")
    stream.text(task, "message", "the ")
    stream.text(task, "message", "file.")

    stream.emit(task, "toolCall", toolCallId="t1")

    assert published.kinds() == [
        ("message", "Creating "),
        ("message", "the file."),
        ("toolCall", None),
    ]
    assert [event["seq"] for event in published.events] == [1, 2, 3]
    await asyncio.sleep(events.TEXT_INTERVAL * 2)  # the timer went with the flush
    assert len(published.events) == 3


async def test_message_and_thought_do_not_merge(stream: EventStream, published: Published) -> None:
    task = Task("s1")

    stream.text(task, "message", "a")
    stream.text(task, "thought", "b")
    stream.text(task, "thought", "c")
    stream.text(task, "message", "d")
    stream.flush()

    assert published.kinds() == [("message", "a"), ("thought", "bc"), ("message", "d")]


async def test_text_of_two_tasks_does_not_merge(stream: EventStream, published: Published) -> None:
    first, second = Task("s1"), Task("s2")

    stream.text(first, "message", "one")
    stream.text(second, "message", "two")
    stream.flush()

    assert [(event["taskId"], event["text"]) for event in published.events] == [
        ("s1", "one"),
        ("s2", "two"),
    ]


async def test_seq_increases_across_tasks_and_kinds(
    stream: EventStream, published: Published
) -> None:
    first, second = Task("s1"), Task("s2")

    stream.emit(first, "started", text="x", images=0)
    stream.text(first, "message", "m")
    stream.emit(second, "started", text=None, images=0)
    stream.emit(first, "turnEnd", turn=1, stopReason="end_turn", queued=0)

    assert [event["seq"] for event in published.events] == [1, 2, 3, 4]


async def test_the_event_carries_the_task_state_at_send_time(
    stream: EventStream, published: Published
) -> None:
    task = Task("s1")
    stream.emit(task, "started")
    task.failed = True
    stream.emit(task, "error", message="gone", code=None)

    assert [event["state"] for event in published.events] == ["idle", "failed"]


async def test_drop_forgets_the_text_of_that_task_only(
    stream: EventStream, published: Published
) -> None:
    dropped, kept = Task("old"), Task("new")
    stream.text(dropped, "message", "sent at once, ")
    stream.text(dropped, "message", "then held and never sent")

    stream.drop(kept)  # holds nothing for this one: the text stays
    stream.drop(dropped)
    await asyncio.sleep(events.TEXT_INTERVAL * 2)

    assert published.kinds() == [("message", "sent at once, ")]
    stream.text(kept, "message", "sent")
    stream.drop(dropped)
    stream.flush()
    assert published.kinds() == [("message", "sent at once, "), ("message", "sent")]


async def test_a_failing_listener_does_not_stop_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Event] = []

    def publish(event: Event) -> None:
        seen.append(event)
        if event["seq"] == 1:
            raise RuntimeError("listener broke")

    stream = EventStream(publish)
    task = Task("s1")
    stream.emit(task, "started")
    stream.emit(task, "turnStart", turn=1)

    assert [event["seq"] for event in seen] == [1, 2]
    assert "could not publish a task event" in caplog.text


# -- apply_session_update ------------------------------------------------------------------------


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
