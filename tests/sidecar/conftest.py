"""pytest-lsp clients for the sidecar: one playing the VS Code extension, one another editor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from cline_bridge.sidecar.task_events import EventStream
from tests.support.editor_double import DOUBLE_OPTIONS, EditorClient
from tests.support.published import Published
from tests.support.sidecar import HOST_REQUEST_TIMEOUT, MISSING_CLINE, SERVER_COMMAND


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=EditorClient)
)
async def editor(lsp_client: EditorClient) -> AsyncIterator[None]:
    """The sidecar as the VS Code extension starts it: ``clineApi: true``."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            client_info=types.ClientInfo(name="cline-bridge-test-extension"),
            initialization_options={**DOUBLE_OPTIONS, "hostRequestTimeout": HOST_REQUEST_TIMEOUT},
        )
    )
    yield
    lsp_client.cline.release.set()
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def other_editor(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """The sidecar as another editor starts it: no ClineAPI to lend, and no Cline CLI."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            client_info=types.ClientInfo(name="another-editor"),
            initialization_options={"acp": {"command": [MISSING_CLINE, "--acp"]}},
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def published() -> Published:
    """The task events a host published, in order (no editor, no subscriber)."""
    return Published()


@pytest.fixture
def stream(published: Published) -> EventStream:
    """An event stream that publishes into ``published``."""
    return EventStream(published)
