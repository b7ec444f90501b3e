"""Fixtures for the code-server tests: the tools, the bridge's VSIX, and an editor per test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.editors.vscode.real_cline import ClineNotInstalled
from tests.editors.vscode.workbench import (
    REPO,
    VSIX,
    ClineSetup,
    EditorToolsMissing,
    StartWorkbench,
    Tools,
    Workbench,
    chromium_page,
    code_server,
    failure_report,
    installed_tools,
)


@pytest.fixture(scope="session")
def e2e_tools() -> Tools:
    try:
        return installed_tools()
    except EditorToolsMissing as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def bridge_vsix() -> Path:
    if not VSIX.is_file():
        pytest.fail(f"{VSIX.relative_to(REPO)} is missing: run `make vsix`")
    return VSIX


# --- fixtures -----------------------------------------------------------------------------------

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_reports, {}).values())


def _workbench(
    request: pytest.FixtureRequest,
    tools: Tools,
    vsix: Path,
    *,
    cline: ClineSetup,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Iterator[Workbench]:
    root = Path(tempfile.mkdtemp(prefix="cline-bridge-e2e-"))
    page = None
    try:
        with ExitStack() as stack:
            try:
                editor = stack.enter_context(
                    code_server(tools, vsix, root, cline=cline, env=env, settings=settings)
                )
                page = stack.enter_context(chromium_page())
                workbench = Workbench(editor, page)
                workbench.open()
            except ClineNotInstalled as error:
                pytest.fail(str(error), pytrace=False)
            except BaseException:
                print(failure_report(root, page))
                raise
            yield workbench
            if _failed(request.node):
                print(failure_report(root, page))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def workbench(request: pytest.FixtureRequest, e2e_tools: Tools, bridge_vsix: Path):
    """An editor with the bridge and the Cline double, the bridge's sidecar running."""
    yield from _workbench(request, e2e_tools, bridge_vsix, cline="double")


@pytest.fixture
def workbench_without_cline(request: pytest.FixtureRequest, e2e_tools: Tools, bridge_vsix: Path):
    """An editor with the bridge but no Cline extension, the bridge's sidecar running."""
    yield from _workbench(request, e2e_tools, bridge_vsix, cline="none")


@pytest.fixture
def start_workbench(
    request: pytest.FixtureRequest, e2e_tools: Tools, bridge_vsix: Path
) -> Iterator[StartWorkbench]:
    """Start an editor with the bridge when the test says, with extra environment and settings
    (for a test that must start something else first); it is stopped when the test ends."""
    with ExitStack() as stack:

        def start(
            *,
            cline: ClineSetup,
            env: Mapping[str, str] | None = None,
            settings: Mapping[str, Any] | None = None,
        ) -> Workbench:
            return stack.enter_context(
                contextmanager(_workbench)(
                    request, e2e_tools, bridge_vsix, cline=cline, env=env, settings=settings
                )
            )

        yield start
