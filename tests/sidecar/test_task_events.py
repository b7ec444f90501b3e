"""``EventStream``: numbered events, with the text that streams coalesced."""

from __future__ import annotations

import asyncio

import pytest

from cline_bridge.sidecar import task_events as events
from cline_bridge.sidecar.hosts.acp.task import Task
from cline_bridge.sidecar.task_events import EventStream
from tests.support.published import Event, Published


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
