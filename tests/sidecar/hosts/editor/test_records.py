"""Reading Cline's task records: what a reader makes of odd files (where they are:
tests/sidecar/test_cline_records.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cline_bridge.sidecar.cline_records import RecordNotReady, RecordTooLarge
from cline_bridge.sidecar.hosts.editor import records
from cline_bridge.sidecar.hosts.editor.records import UnknownRecord, read_session
from tests.fakes.cline_records import FakeSession

PID = 4242


def test_a_session_reads_as_cline_wrote_it(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "Create hello.txt", pid=PID)
    session.user("Create hello.txt")

    read = read_session(session.folder)

    assert read.manifest.session_id == session.session_id
    assert (read.manifest.status, read.manifest.pid) == ("running", PID)
    assert read.manifest.prompt == "Create hello.txt"
    assert read.manifest.usage is None, "Cline records usage once the model has answered"
    assert [message["role"] for message in read.messages or ()] == ["user"]


def test_the_manifest_s_usage_is_read(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.set_usage(input_tokens=14, output_tokens=8, cost=0.000066)

    assert read_session(session.folder).manifest.usage == {
        "inputTokens": 14,
        "outputTokens": 8,
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cost": 0.000066,
    }


def test_a_session_without_its_messages_yet_has_none(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.messages_file.unlink()

    assert read_session(session.folder).messages == ()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"version": 1, "session_id": "x", "sta', id="half-written"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="not an object"),
        pytest.param(b"\xff\xfe{}", id="not UTF-8"),
        pytest.param(b'{"version": 1}', id="no status"),
    ],
)
def test_a_manifest_being_written_is_not_ready(tmp_path: Path, content: bytes) -> None:
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.manifest_file.write_bytes(content)

    with pytest.raises(RecordNotReady):
        read_session(session.folder)


def test_a_manifest_of_another_version_is_unknown(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.manifest_version = 2
    session.write_manifest()

    with pytest.raises(UnknownRecord, match="session manifest of version 2"):
        read_session(session.folder)


def test_messages_of_another_version_are_unknown(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.messages_version = 2
    session.write_messages()

    with pytest.raises(UnknownRecord, match="messages file of version 2"):
        read_session(session.folder)


def test_messages_over_the_bound_are_too_large_and_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_MESSAGES_BYTES", 1024 * 1024)
    session = FakeSession.start(tmp_path, "go", pid=PID)
    session.say("x" * (1024 * 1024))

    with pytest.raises(RecordTooLarge, match="over 1 MiB"):
        read_session(session.folder)
