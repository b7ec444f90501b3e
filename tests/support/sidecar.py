"""The sidecar under test: how tests start it, and how a pytest-lsp client sends it commands."""

from __future__ import annotations

import sys
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "cline_bridge", "serve", "--stdio"]
"""``cline-bridge serve`` as VS Code starts it (vscode-languageclient appends ``--stdio``)."""
HOST_REQUEST_TIMEOUT = 2.0
"""The editor host's wait for the editor in tests: short enough for the "editor never answers"
test, long enough for any real local answer."""
MISSING_CLINE = "cline-bridge-test-no-such-cline"
"""A Cline CLI that cannot be found, so that "no host" does not depend on what this machine has."""


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    """Run ``command`` with ``arguments`` through workspace/executeCommand."""
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def execute_error(client: LanguageClient, command: str, *arguments: Any) -> JsonRpcException:
    """Run ``command`` expecting an error response; return it."""
    try:
        result = await execute(client, command, *arguments)
    except JsonRpcException as error:
        return error
    raise AssertionError(f"{command} succeeded with {result!r}; an error was expected")
