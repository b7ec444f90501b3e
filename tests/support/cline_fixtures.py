"""Fixtures for tests that run the real Cline CLI against the fake model server.

tests/acp/conftest.py uses them; another test folder gets them by importing the names it needs
into its own conftest.py (``from tests.support.cline_fixtures import cline_home, …``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI
from tests.support.acp_driver import AcpDriver
from tests.support.cline_env import (
    ClineHome,
    ToolsMissing,
    cline_binary_path,
    cline_leak_guard,
    make_cline_home,
    require_cline_binary,
)


@pytest.fixture(scope="session")
def cline_binary() -> Path:
    """The pinned Cline CLI's platform binary; fails (never skips) when it is not installed."""
    try:
        return require_cline_binary()
    except ToolsMissing as error:
        pytest.fail(str(error))


@pytest.fixture
def fake_model() -> Iterator[FakeClineAPI]:
    """The fake model server behind the agent. An unscripted request gets a 401, which fails the
    prompt at once (a 5xx would be retried for about a minute)."""
    fake = FakeClineAPI(unscripted_status=401)
    try:
        yield fake
    finally:
        fake.close()
        # Shown under a failing test: why the agent's request got a 401.
        for problem in fake.problems:
            print(f"fake model server: {problem}", file=sys.stderr)


@pytest.fixture
def cline_home(tmp_path: Path, fake_model: FakeClineAPI, cline_binary: Path) -> ClineHome:
    """An isolated Cline home under ``tmp_path`` whose provider points at ``fake_model``."""
    return make_cline_home(tmp_path / "cline", fake_model.url, cline_binary)


@pytest.fixture
async def cline_agent(cline_home: ClineHome) -> AsyncIterator[AcpDriver]:
    """``cline --acp`` started in ``cline_home``'s workspace, not yet initialized. It answers
    permission requests with ``cancelled`` until the test sets ``on_permission``."""
    driver = await AcpDriver.start(
        cline_home.command,
        env=cline_home.spawn_env(),
        cwd=cline_home.workspace,
        stderr_path=cline_home.stderr_log,
    )
    try:
        yield driver
    finally:
        code = await driver.close()
        if code != 0:
            print(f"cline --acp exited with {code}:\n{driver.stderr_tail()}", file=sys.stderr)


@pytest.fixture
def no_leaked_cline(tmp_path: Path) -> Iterator[None]:
    """Fail the test if a Cline process of its own (under ``tmp_path``, or a child of pytest)
    is still running at teardown; such processes are killed by pid first."""
    binary = cline_binary_path()
    with cline_leak_guard(binary if binary.exists() else None, [tmp_path]):
        yield
