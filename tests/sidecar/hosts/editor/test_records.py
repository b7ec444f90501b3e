"""Reading Cline's task records: where they are, and what a reader makes of odd files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cline_bridge.sidecar.hosts.editor import records
from cline_bridge.sidecar.hosts.editor.records import (
    RecordNotReady,
    RecordTooLarge,
    UnknownRecord,
    cline_data_dir,
    read_session,
)
from tests.fakes.cline_records import FakeSession

PID = 4242


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"CLINE_DATA_DIR": "/d", "CLINE_DIR": "/c"}, Path("/d"), id="CLINE_DATA_DIR"),
        pytest.param({"CLINE_DIR": "/c"}, Path("/c/data"), id="CLINE_DIR"),
        pytest.param({"CLINE_DATA_DIR": ""}, Path.home() / ".cline" / "data", id="home"),
    ],
)
def test_the_data_folder_is_found_as_cline_finds_it(
    environ: dict[str, str], expected: Path
) -> None:
    assert cline_data_dir(environ) == expected


def test_a_session_reads_as_cline_wrote_it(tmp_path: Path) -> None:
    session = FakeSession.start(tmp_path, "Create hello.txt", pid=PID)
    session.user("Create hello.txt")

    read = read_session(session.folder)

    assert read.manifest.session_id == session.session_id
    assert (read.manifest.status, read.manifest.pid) == ("running", PID)
    assert read.manifest.prompt == "Create hello.txt"
    assert [message["role"] for message in read.messages or ()] == ["user"]


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
