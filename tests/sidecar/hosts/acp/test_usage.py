"""``turn_usage``: the ACP host's read of a task's usage, off the loop, bounded, never failing."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from cline_bridge.sidecar.cline_records import Usage
from cline_bridge.sidecar.hosts.acp import usage
from cline_bridge.sidecar.hosts.acp.usage import turn_usage

RECORDED = {"inputTokens": 14, "outputTokens": 8, "cacheReadTokens": 0, "cacheWriteTokens": 0}


def _record(data_dir: Path, session_id: str, content: str) -> None:
    folder = data_dir / "sessions" / session_id
    folder.mkdir(parents=True)
    (folder / f"{session_id}.json").write_text(content)


async def test_the_usage_cline_recorded(tmp_path: Path) -> None:
    _record(tmp_path, "s1", json.dumps({"metadata": {"usage": {**RECORDED, "totalCost": 0}}}))

    assert await turn_usage(tmp_path, "s1") == {**RECORDED, "cost": 0.0}


@pytest.mark.parametrize(
    ("content", "failed"),
    [
        pytest.param(None, True, id="no manifest"),
        pytest.param('{"metadata": {"us', True, id="half-written"),
        pytest.param('{"metadata": {}}', False, id="no usage recorded"),
    ],
)
async def test_no_usage_known_is_none_and_a_failure_is_said_at_debug(
    tmp_path: Path, content: str | None, failed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    if content is not None:
        _record(tmp_path, "s1", content)

    with caplog.at_level(logging.DEBUG, logger=usage.__name__):
        assert await turn_usage(tmp_path, "s1") is None

    assert [record.levelno for record in caplog.records] == ([logging.DEBUG] if failed else [])


async def test_a_read_that_hangs_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def hanging_read(data_dir: Path, session_id: str) -> Usage | None:
        release.wait(10)
        return None

    monkeypatch.setattr(usage, "read_usage", hanging_read)
    monkeypatch.setattr(usage, "READ_TIMEOUT", 0.05)
    try:
        assert await turn_usage(tmp_path, "s1") is None
    finally:
        release.set()  # the thread's read ends, and its answer is dropped
