"""A sidecar with an editor connection (the pytest-lsp client playing the extension) and its
control endpoint, in a private runtime folder per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

from tests.support.editor_double import DOUBLE_OPTIONS, EditorClient
from tests.support.environment import without_cline_settings
from tests.support.sidecar import SERVER_COMMAND, execute


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runtime"
    folder.mkdir(mode=0o700)
    return folder


def sidecar_env(runtime_dir: Path) -> dict[str, str]:
    return without_cline_settings(XDG_RUNTIME_DIR=str(runtime_dir))


class Sidecar:
    """The editor's client plus what the sidecar published for scripts."""

    def __init__(
        self, editor: EditorClient, discovery_file: Path, initialized: types.InitializeResult
    ) -> None:
        self.editor = editor
        self.discovery_file = discovery_file
        self.initialized = initialized
        """What the sidecar answered the editor's ``initialize``."""
        self.record: dict[str, Any] = json.loads(discovery_file.read_text())


async def start_editor(
    editor: EditorClient, workspace: Path, options: Mapping[str, Any] = DOUBLE_OPTIONS
) -> Sidecar:
    initialized = await editor.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
            initialization_options={**options, "hostRequestTimeout": 5},
        )
    )
    status = await execute(editor, "clineBridge.status")
    assert status["control"] is not None, "the control endpoint did not start"
    return Sidecar(editor, Path(status["control"]["discoveryFile"]), initialized)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest_asyncio.fixture
async def sidecar(runtime_dir: Path, workspace: Path) -> AsyncIterator[Sidecar]:
    """A running sidecar for ``workspace`` whose editor is the pytest-lsp extension double."""
    async with running_sidecar(runtime_dir, workspace) as started:
        yield started


@contextlib.asynccontextmanager
async def running_sidecar(
    runtime_dir: Path,
    workspace: Path,
    *extra_args: str,
    options: Mapping[str, Any] = DOUBLE_OPTIONS,
) -> AsyncIterator[Sidecar]:
    """A sidecar whose editor is the extension double, initialized with ``options``."""
    config = ClientServerConfig(
        server_command=[*SERVER_COMMAND, *extra_args],
        client_factory=EditorClient,
        server_env=sidecar_env(runtime_dir),
    )
    editor = await config.start()
    try:
        yield await start_editor(editor, workspace, options)  # type: ignore[arg-type]
        editor.cline.release.set()  # type: ignore[attr-defined]
        await asyncio.wait_for(editor.shutdown_session(), 10)  # type: ignore[attr-defined]
    finally:
        # After a failed test the sidecar may still run: end it by pid before stopping.
        process = editor._server  # type: ignore[attr-defined]  # pygls keeps it private
        if process is not None and process.returncode is None:
            process.kill()
        await asyncio.wait_for(editor.stop(), 10)  # type: ignore[attr-defined]
