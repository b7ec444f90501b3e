"""The JSON-RPC peer without I/O: ids, answers to the right reply, requests and notifications to
their handlers, and odd messages handled one way for every connection."""

from __future__ import annotations

from typing import Any

import pytest

from cline_bridge.wire.errors import ClineUnavailableError, InvalidArgumentsError
from cline_bridge.wire.peer import INVALID_REQUEST, METHOD_NOT_FOUND, JsonRpcPeer


class Reply:
    def __init__(self) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.settled = 0

    def done(self) -> bool:
        return self.settled > 0

    def set_result(self, result: Any) -> None:
        self.result = result
        self.settled += 1

    def set_exception(self, exception: BaseException) -> None:
        self.error = exception
        self.settled += 1


class Wire:
    """A peer's messages out, and what its handlers were given."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.requests: list[tuple[Any, str, Any]] = []
        self.notifications: list[tuple[str, Any]] = []

    def peer(self, **options: Any) -> JsonRpcPeer:
        return JsonRpcPeer(
            self.sent.append,
            on_request=lambda *request: self.requests.append(request),
            on_notification=lambda *note: self.notifications.append(note),
            **options,
        )


def test_requests_are_numbered_and_their_answers_reach_their_replies() -> None:
    wire = Wire()
    peer = wire.peer()
    first, second = Reply(), Reply()

    assert peer.request("a", {"x": 1}, first) == 1
    assert peer.request("b", None, second) == 2
    assert wire.sent == [
        {"jsonrpc": "2.0", "id": 1, "method": "a", "params": {"x": 1}},
        {"jsonrpc": "2.0", "id": 2, "method": "b"},
    ]

    peer.receive({"jsonrpc": "2.0", "id": 2, "result": [2]})
    peer.receive({"jsonrpc": "2.0", "id": 1, "result": {"one": 1}})

    assert (first.result, second.result) == ({"one": 1}, [2])


def test_an_error_answer_becomes_the_bridge_error_of_its_code() -> None:
    peer = Wire().peer()
    reply = Reply()
    peer.request("clineBridge.x", None, reply)

    peer.receive({"jsonrpc": "2.0", "id": 1, "error": {"code": -32002, "message": "gone"}})

    assert isinstance(reply.error, ClineUnavailableError)
    assert (reply.error.code, reply.error.message) == (-32002, "gone")


def test_an_error_factory_gets_the_method_and_the_error() -> None:
    made: list[tuple[str, Any]] = []

    def factory(method: str, error: Any) -> Exception:
        made.append((method, error))
        return RuntimeError(method)

    peer = Wire().peer(error_factory=factory)
    reply = Reply()
    peer.request("session/new", {}, reply)
    peer.receive({"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": "no"}})

    assert made == [("session/new", {"code": 1, "message": "no"})]
    assert isinstance(reply.error, RuntimeError)


@pytest.mark.parametrize(
    "answer",
    [
        {"jsonrpc": "2.0", "id": 99, "result": "to nothing"},
        {"jsonrpc": "2.0", "id": "1", "result": "a string id is not ours"},
        {"jsonrpc": "2.0", "id": True, "result": "nor is a boolean"},
        {"jsonrpc": "2.0", "id": [1], "result": "nor a list"},
        {"jsonrpc": "2.0", "result": "no id at all"},
    ],
)
def test_an_answer_to_nothing_of_ours_is_dropped(answer: dict[str, Any]) -> None:
    wire = Wire()
    peer = wire.peer()
    reply = Reply()
    peer.request("a", None, reply)

    assert peer.receive(answer) is True

    assert not reply.done()
    assert wire.sent[1:] == []  # nothing answered back


def test_an_answer_after_forget_or_a_second_answer_is_dropped() -> None:
    peer = Wire().peer()
    forgotten, answered = Reply(), Reply()
    peer.forget(peer.request("a", None, forgotten))
    peer.request("b", None, answered)

    peer.receive({"jsonrpc": "2.0", "id": 1, "result": "late"})
    peer.receive({"jsonrpc": "2.0", "id": 2, "result": "first"})
    peer.receive({"jsonrpc": "2.0", "id": 2, "result": "again"})

    assert not forgotten.done()
    assert (answered.result, answered.settled) == ("first", 1)


def test_a_send_that_fails_leaves_nothing_pending() -> None:
    def broken(message: dict[str, Any]) -> None:
        raise OSError("closed")

    peer = JsonRpcPeer(broken)
    reply = Reply()
    with pytest.raises(OSError, match="closed"):
        peer.request("a", None, reply)

    peer.fail_pending(RuntimeError("lost"))
    assert not reply.done()


def test_requests_and_notifications_go_to_their_handlers() -> None:
    wire = Wire()
    peer = wire.peer()

    peer.receive({"jsonrpc": "2.0", "id": "r1", "method": "session/request_permission"})
    peer.receive({"jsonrpc": "2.0", "id": 0, "method": "x/y", "params": [1]})
    peer.receive({"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "t"}})

    assert wire.requests == [("r1", "session/request_permission", None), (0, "x/y", [1])]
    assert wire.notifications == [("$/progress", {"token": "t"})]


def test_without_handlers_requests_are_not_found_and_notifications_dropped() -> None:
    sent: list[dict[str, Any]] = []
    peer = JsonRpcPeer(sent.append)

    peer.receive({"jsonrpc": "2.0", "id": 7, "method": "workspace/configuration"})
    peer.receive({"jsonrpc": "2.0", "method": "clineBridge/taskEvent", "params": {}})

    assert sent == [
        {
            "jsonrpc": "2.0",
            "id": 7,
            "error": {
                "code": METHOD_NOT_FOUND,
                "message": "Method not found: workspace/configuration",
            },
        }
    ]


def test_a_method_that_is_not_a_string_is_an_invalid_request() -> None:
    wire = Wire()
    peer = wire.peer()

    assert peer.receive({"jsonrpc": "2.0", "id": 3, "method": 42}) is True
    assert peer.receive({"jsonrpc": "2.0", "method": ["x"]}) is True  # a notification: dropped

    assert wire.sent == [
        {
            "jsonrpc": "2.0",
            "id": 3,
            "error": {"code": INVALID_REQUEST, "message": "method must be a string"},
        }
    ]
    assert (wire.requests, wire.notifications) == ([], [])


@pytest.mark.parametrize("message", [[1, 2], "text", 3, None])
def test_something_that_is_no_message_is_reported_and_ignored(message: Any) -> None:
    wire = Wire()
    assert wire.peer().receive(message) is False
    assert (wire.sent, wire.requests, wire.notifications) == ([], [], [])


def test_respond_and_respond_error_leave_out_absent_data() -> None:
    wire = Wire()
    peer = wire.peer()

    peer.respond(1, None)
    peer.respond_error(2, InvalidArgumentsError("bad").to_response())
    peer.respond_error(3, {"code": -32004, "message": "api", "data": {"status": 402}})
    peer.notify("exit")

    assert wire.sent == [
        {"jsonrpc": "2.0", "id": 1, "result": None},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": -32602, "message": "bad"}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "error": {"code": -32004, "message": "api", "data": {"status": 402}},
        },
        {"jsonrpc": "2.0", "method": "exit"},
    ]


def test_fail_pending_fails_every_waiting_reply_once() -> None:
    peer = Wire().peer()
    waiting, answered = Reply(), Reply()
    peer.request("a", None, waiting)
    peer.request("b", None, answered)
    peer.receive({"jsonrpc": "2.0", "id": 2, "result": 1})
    lost = ConnectionError("lost")

    peer.fail_pending(lost)
    peer.fail_pending(lost)

    assert (waiting.error, waiting.settled) == (lost, 1)
    assert (answered.result, answered.error) == (1, None)
