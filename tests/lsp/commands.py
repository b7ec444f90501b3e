"""Helpers for sending the sidecar's commands from a test client."""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient


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
