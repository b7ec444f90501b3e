"""``Task``: its queue, its state; ``Ask``: which option answers an approval; tool titles."""

from __future__ import annotations

import asyncio
from typing import Any

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.acp.task import Ask, Task, ToolCallRecord

PNG = "data:image/png;base64,AAAA"
JPEG = "data:image/jpeg;base64,BBBB"


def test_take_queue_joins_texts_with_blank_lines_and_keeps_every_image() -> None:
    task = Task("s1")
    task.queue.extend(
        [
            TextAndImages("first", (PNG,)),
            TextAndImages(None, (JPEG,)),
            TextAndImages("", ()),
            TextAndImages("second\nline", ()),
        ]
    )

    joined = task.take_queue()

    assert joined == TextAndImages("first\n\nsecond\nline", (PNG, JPEG))
    assert not task.queue
    assert task.take_queue() is None


def test_take_queue_of_images_only_has_no_text() -> None:
    task = Task("s1")
    task.queue.append(TextAndImages(None, (PNG,)))

    assert task.take_queue() == TextAndImages(None, (PNG,))


def test_take_queue_of_one_message_is_that_message() -> None:
    task = Task("s1")
    task.queue.append(TextAndImages("only", ()))

    assert task.take_queue() == TextAndImages("only", ())


def _ask(*options: dict[str, Any]) -> Ask:
    return Ask(request_id=0, tool_call=ToolCallRecord("t1"), options=list(options))


def test_option_id_prefers_the_first_kind_asked_for() -> None:
    ask = _ask(
        {"optionId": "always", "kind": "allow_always"},
        {"optionId": "once", "kind": "allow_once"},
        {"optionId": "no", "kind": "reject_once"},
    )

    assert ask.option_id("allow_once", "allow_always") == "once"
    assert ask.option_id("allow_always", "allow_once") == "always"
    assert ask.option_id("reject_once", "reject_always") == "no"


def test_option_id_falls_back_to_the_next_kind_and_takes_the_first_option() -> None:
    ask = _ask(
        {"optionId": "first", "kind": "allow_always"},
        {"optionId": "second", "kind": "allow_always"},
    )

    assert ask.option_id("allow_once", "allow_always") == "first"


def test_option_id_is_none_when_no_option_fits() -> None:
    ask = _ask({"optionId": 42, "kind": "allow_once"}, {"kind": "allow_once"})

    assert ask.option_id("allow_once") is None
    assert _ask().option_id("reject_once", "reject_always") is None


def test_each_ask_has_its_own_id() -> None:
    assert _ask().ask_id != _ask().ask_id


async def test_state_failed_beats_approval_beats_running() -> None:
    task = Task("s1")
    assert task.state == "idle"

    gate = asyncio.Event()

    async def turn() -> None:
        await gate.wait()

    task.turn = asyncio.ensure_future(turn())
    assert task.state == "running"
    ask = _ask()
    task.asks[ask.ask_id] = ask
    assert task.state == "awaitingApproval"
    task.failed = True
    assert task.state == "failed"

    gate.set()
    await asyncio.wait_for(task.turn, 1.0)
    task.failed = False
    task.asks.clear()
    assert (task.running, task.state) == (False, "idle")
