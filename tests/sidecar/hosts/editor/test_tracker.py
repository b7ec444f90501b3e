"""The editor host's task events, derived from Cline's records reading by reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cline_bridge.sidecar.hosts.editor.records import read_session
from cline_bridge.sidecar.hosts.editor.tracker import NO_ANSWER, Tracker
from cline_bridge.sidecar.task_events import EventStream
from tests.fakes.cline_records import FakeSession
from tests.support.published import Published

PID = 4242
EDIT = {"path": "/w/hello.txt", "new_text": "hi\n"}


class Follow:
    """A tracker fed each new reading of the sessions, as the watcher feeds it."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.published = Published()
        self.stream = EventStream(self.published)
        self.tracker = Tracker(self.stream, PID)

    def read(self, *sessions: FakeSession) -> list[tuple[str, Any]]:
        """Read the sessions now; return the events that reading sent."""
        before = len(self.published.events)
        for session in sessions:
            self.tracker.update(read_session(session.folder))
        self.stream.flush()
        return [_short(event) for event in self.published.events[before:]]


def _short(event: dict[str, Any]) -> tuple[str, Any]:
    kind = event["kind"]
    detail = {
        "started": event.get("text"),
        "turnStart": (event.get("turn"), event.get("text"), event.get("images")),
        "message": event.get("text"),
        "thought": event.get("text"),
        "toolCall": (event.get("title"), event.get("status")),
        "approval": (event.get("title"), event.get("askId")),
        "approvalResolved": (event.get("outcome"), event.get("source")),
        "turnEnd": (event.get("turn"), event.get("stopReason")),
        "error": event.get("message"),
    }[kind]
    return kind, detail


@pytest.fixture
def follow(tmp_path: Path) -> Follow:
    return Follow(tmp_path)


async def test_an_approved_edit_turn(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "Create hello.txt", pid=PID)
    assert follow.read(session) == [("started", "Create hello.txt")]

    session.user("Create hello.txt")
    session.tool_use("call_1", "editor", EDIT)
    session.set_status("pending")
    assert follow.read(session) == [
        ("turnStart", (1, "Create hello.txt", 0)),
        ("toolCall", ("editor: write /w/hello.txt", "pending")),
        ("approval", ("editor: write /w/hello.txt", "ask-call_1")),
    ]
    task = follow.tracker.current
    assert task is not None
    assert (task.task_id, task.state) == (session.session_id, "awaitingApproval")

    follow.tracker.pressed(task, allow=True)
    session.set_status("running")
    assert follow.read(session) == [
        ("approvalResolved", ("allowed", "button")),
        ("toolCall", ("editor: write /w/hello.txt", "in_progress")),
    ]

    session.tool_result("call_1", {"result": "File created", "success": True})
    session.say("Created hello.txt.")
    session.set_status("idle")
    assert follow.read(session) == [
        ("toolCall", ("editor: write /w/hello.txt", "completed")),
        ("message", "Created hello.txt."),
        ("turnEnd", (1, "end_turn")),
    ]
    assert task.state == "idle"


async def test_an_edit_rejected_in_cline_s_panel(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "Create hello.txt", pid=PID)
    session.user("Create hello.txt")
    session.tool_use("call_1", "editor", EDIT)
    session.set_status("pending")
    follow.read(session)

    session.set_status("running")  # answered in the panel: how, the result will say
    assert follow.read(session) == []
    session.deny("call_1")
    session.say("OK, not created.")
    session.set_status("idle")

    assert follow.read(session) == [
        ("approvalResolved", ("rejected", "panel")),
        ("toolCall", ("editor: write /w/hello.txt", "failed")),
        ("message", "OK, not created."),
        ("turnEnd", (1, "end_turn")),
    ]


async def test_every_reading_tells_only_what_is_new(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "go", pid=PID)
    session.user("go")
    session.assistant({"type": "thinking", "thinking": "Hmm"}, {"type": "text", "text": "Hel"})
    assert follow.read(session)[2:] == [("thought", "Hmm"), ("message", "Hel")]
    assert follow.read(session) == [], "the same reading again tells nothing"

    session.messages[-1]["content"][1]["text"] = "Hello"  # a part that grew
    session.write_messages()
    assert follow.read(session) == [("message", "lo")]


async def test_a_message_and_an_image_start_a_new_turn(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "go", pid=PID)
    session.user("go")
    session.say("Done.")
    session.set_status("idle")
    follow.read(session)

    # The whole turn runs between two readings, which both see "idle".
    session.set_status("running")
    session.user("look at this", images=1)
    session.say("I see an image.")
    session.set_status("idle")

    assert follow.read(session) == [
        ("turnStart", (2, "look at this", 1)),
        ("message", "I see an image."),
        ("turnEnd", (2, "end_turn")),
    ]


async def test_a_turn_without_an_answer_is_an_error(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "go", pid=PID)
    session.user("go")
    follow.read(session)

    session.set_status("idle")  # the provider failed: Cline records no assistant message

    assert follow.read(session) == [("error", NO_ANSWER), ("turnEnd", (1, "error"))]


async def test_a_task_started_without_a_prompt_waits_without_a_turn(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "", pid=PID)
    session.set_status("idle")

    assert follow.read(session) == [("started", None)]


async def test_a_new_task_replaces_the_current_one(follow: Follow) -> None:
    first = FakeSession.start(follow.data, "one", pid=PID)
    first.user("one")
    follow.read(first)

    second = FakeSession.start(follow.data, "two", pid=PID)
    first.set_status("completed")
    first.say("late words of a replaced task")

    assert follow.read(second, first) == [("started", "two")]
    assert follow.tracker.current is not None
    assert follow.tracker.current.task_id == second.session_id


async def test_other_windows_tasks_are_not_followed(follow: Follow) -> None:
    theirs = FakeSession.start(follow.data, "theirs", pid=PID + 1)
    theirs.user("theirs")

    assert follow.read(theirs) == []
    assert follow.tracker.current is None


async def test_a_waiting_task_found_at_start_can_be_answered(follow: Follow) -> None:
    done = FakeSession.start(follow.data, "old", pid=PID)
    done.set_status("completed")
    waiting = FakeSession.start(follow.data, "Create hello.txt", pid=PID)
    waiting.user("Create hello.txt")
    waiting.tool_use("call_1", "editor", EDIT)
    waiting.set_status("pending")

    follow.tracker.learn([read_session(done.folder), read_session(waiting.folder)])

    assert follow.published.events == [], "learning tells nothing"
    task = follow.tracker.current
    assert task is not None
    assert (task.task_id, task.state) == (waiting.session_id, "awaitingApproval")
    assert task.open_tool is not None
    assert task.open_tool.describe()["title"] == "editor: write /w/hello.txt"
    follow.tracker.pressed(task, allow=False)
    waiting.set_status("running")
    assert follow.read(waiting) == [("approvalResolved", ("rejected", "button"))]


async def test_a_new_task_resolves_its_waiter(follow: Follow) -> None:
    waiter = follow.tracker.next_task()
    session = FakeSession.start(follow.data, "go", pid=PID)
    follow.read(session)

    assert waiter.done()
    assert waiter.result().task_id == session.session_id


async def test_a_second_approval_between_two_pending_readings_is_told(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "Create two files", pid=PID)
    session.user("Create two files")
    session.tool_use("call_1", "editor", EDIT)
    session.set_status("pending")
    follow.read(session)

    # Approved in the panel; the edit ran and the next one waits: the reading sees "pending".
    session.tool_result("call_1", {"result": "File created", "success": True})
    session.tool_use("call_2", "editor", {"path": "/w/two.txt", "new_text": "2\n"})

    assert follow.read(session) == [
        ("approvalResolved", ("allowed", "panel")),
        ("toolCall", ("editor: write /w/hello.txt", "in_progress")),
        ("toolCall", ("editor: write /w/hello.txt", "completed")),
        ("toolCall", ("editor: write /w/two.txt", "pending")),
        ("approval", ("editor: write /w/two.txt", "ask-call_2")),
    ]


async def test_an_approval_answered_through_the_bridge_waits_no_more(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "Create hello.txt", pid=PID)
    session.user("Create hello.txt")
    session.tool_use("call_1", "editor", EDIT)
    session.set_status("pending")
    follow.read(session)
    task = follow.tracker.current
    assert task is not None

    follow.tracker.pressed(task, allow=False)

    assert task.state == "running", "a second press must not answer it again"
    session.set_status("running")
    assert follow.read(session) == [("approvalResolved", ("rejected", "button"))]


async def test_tool_calls_and_approvals_name_their_tool(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "Create hello.txt", pid=PID)
    session.user("Create hello.txt")
    session.set_status("pending")  # Cline asks before the reading sees its tool_use
    follow.read(session)
    session.tool_use("call_1", "editor", EDIT)
    follow.read(session)
    task = follow.tracker.current
    assert task is not None
    follow.tracker.pressed(task, allow=True)
    session.set_status("running")
    follow.read(session)
    session.tool_result("call_1", {"result": "File created", "success": True})
    session.tool_use("call_2", "run_commands", {"commands": ["ls"]})
    session.set_status("pending")
    follow.read(session)

    tools = [
        (e["kind"], e["toolCallId"], e["tool"]) for e in follow.published.events if "tool" in e
    ]
    assert tools == [
        ("approval", None, None),  # its tool is not recorded yet: unknown
        ("toolCall", "call_1", "editor"),
        ("toolCall", "call_1", "editor"),
        ("toolCall", "call_1", "editor"),
        ("toolCall", "call_2", "run_commands"),
        ("approval", "call_2", "run_commands"),
    ]


async def test_the_turn_end_carries_the_usage_cline_recorded(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "go", pid=PID)
    session.user("go")
    follow.read(session)

    session.say("Done.")
    session.set_usage(input_tokens=14, output_tokens=8, cost=0.000066, cache_read=3)
    session.set_status("idle")
    follow.read(session)

    end = follow.published.events[-1]
    assert end == {
        "taskId": session.session_id,
        "seq": end["seq"],
        "kind": "turnEnd",
        "state": "idle",
        "turn": 1,
        "stopReason": "end_turn",
        "queued": 0,
        "usage": {
            "inputTokens": 14,
            "outputTokens": 8,
            "cacheReadTokens": 3,
            "cacheWriteTokens": 0,
            "cost": 0.000066,
        },
    }


async def test_a_turn_end_without_recorded_usage_says_null(follow: Follow) -> None:
    session = FakeSession.start(follow.data, "go", pid=PID)
    session.user("go")
    follow.read(session)

    session.set_status("idle")  # the model never answered: Cline recorded no usage
    follow.read(session)

    end = follow.published.events[-1]
    assert (end["kind"], end["stopReason"], end["usage"]) == ("turnEnd", "error", None)
