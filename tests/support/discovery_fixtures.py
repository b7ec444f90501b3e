"""Fixtures for tests of scripts against a bridge: a private runtime folder, live and dead pids, a
fake control endpoint and its discovery file. Conftests import the ones they use."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from cline_bridge.wire.discovery import DiscoveryRecord, runtime_dir, write_discovery
from tests.support.fake_endpoint import TOKEN, FakeEndpoint

TRANSPORT = "unix" if hasattr(socket, "AF_UNIX") and sys.platform != "win32" else "tcp"


def make_record(
    pid: int,
    folders: Sequence[str | Path] = (),
    *,
    endpoint: str = "unix:/nonexistent/cline-bridge.sock",
    token: str = TOKEN,
    host: str = "editor",
    started_at: str | None = None,
) -> DiscoveryRecord:
    """A record as ``pid``'s sidecar writes it; ``started_at`` defaults to now (a record written
    before ``pid`` started is a leftover whose pid was reused)."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    return DiscoveryRecord(
        pid=pid,
        endpoint=endpoint,
        token=token,
        workspace_folders=tuple(str(folder) for folder in folders),
        host=host,
        version="0.1.0",
        started_at=started_at or now,
    )


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``$XDG_RUNTIME_DIR`` set to a fresh short folder (Unix socket paths are short); returns
    the runtime folder inside it, not yet created. ``CLINE_BRIDGE`` is unset."""
    base = Path(tempfile.mkdtemp(prefix="cb-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    monkeypatch.delenv("CLINE_BRIDGE", raising=False)
    try:
        yield base / "cline-bridge"
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


@pytest.fixture
def live_pid() -> Iterator[Callable[[], int]]:
    """Start a process that lives until the test ends; returns its pid."""
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> int:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
        )
        processes.append(process)
        return process.pid

    try:
        yield start
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def fake(runtime: Path) -> Iterator[FakeEndpoint]:
    """A started fake endpoint on ``<runtime>/<this pid>.sock`` (or TCP where there are no Unix
    sockets). No discovery file yet: see ``bridge_file``."""
    endpoint = FakeEndpoint(transport=TRANSPORT)
    endpoint.start(runtime_dir(create=True) / f"{os.getpid()}.sock")
    try:
        yield endpoint
    finally:
        endpoint.close()


@pytest.fixture
def bridge_file(fake: FakeEndpoint, tmp_path: Path) -> Path:
    """The discovery file of ``fake``, for this (live) process, serving ``tmp_path``."""
    return write_discovery(make_record(os.getpid(), [tmp_path], endpoint=fake.address))
