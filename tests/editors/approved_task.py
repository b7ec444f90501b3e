"""What an editor's scenario saw of one task whose single file write was approved from that
editor (``clineBridge.pressPrimaryButton``): the checks the Neovim and Emacs tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def check_task_approved_from_the_editor(result: dict[str, Any], target: Path, content: str) -> None:
    """``result`` is the scenario's: the task started on the ACP host, its events came in order
    and once, one approval was asked for the write to ``target`` and allowed by the button, the
    model's text arrived whole, the turn ended idle, and ``target`` holds ``content``."""
    start = result["start"]
    assert (start["host"], start["action"]) == ("acp", "started")
    events = result["events"]
    kinds = [event["kind"] for event in events]
    assert kinds[:2] == ["started", "turnStart"], kinds
    assert [event["seq"] for event in events] == sorted({event["seq"] for event in events})
    assert all(event["taskId"] == start["taskId"] for event in events)
    asks = [event for event in events if event["kind"] == "approval"]
    assert len(asks) == 1, kinds
    assert str(target) in str(asks[0].get("input"))
    [approval] = result["approvals"]
    assert approval["askId"] == asks[0]["askId"]
    assert approval["result"]["action"] == "approved"
    resolved = [event for event in events if event["kind"] == "approvalResolved"]
    assert [(event["outcome"], event["source"]) for event in resolved] == [("allowed", "button")]
    messages = "".join(event["text"] for event in events if event["kind"] == "message")
    assert messages == "Creating it.Created hello.txt."
    assert (events[-1]["kind"], events[-1]["state"]) == ("turnEnd", "idle"), events[-1]
    assert target.read_text() == content
