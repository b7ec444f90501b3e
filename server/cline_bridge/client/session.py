"""What a script's session with a bridge says, whichever way it is carried.

The asyncio ``Bridge`` and the blocking one-shot calls send the same handshake, the same command
arguments and give the same answers to the bridge's requests; they differ only in how they wait.
Nothing here does I/O or imports asyncio.
"""

from __future__ import annotations

import os

from cline_bridge import __version__
from cline_bridge.wire.errors import BridgeConnectionError, BridgeTimeoutError
from cline_bridge.wire.peer import METHOD_NOT_FOUND

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, TypeAlias

    from cline_bridge.wire.discovery import DiscoveryRecord
    from cline_bridge.wire.peer import JsonRpcPeer

    Images: TypeAlias = Sequence[str | os.PathLike[str]]
    """Images for a task or message: file paths (relative ones are resolved against the current
    directory), ``file:`` URIs, or ``data:image/...;base64,...`` URLs."""

CLIENT_NAME = "cline-bridge-client"

CONNECT_TIMEOUT = 10.0
"""Seconds to reach the bridge and finish the handshake (and, at the end, to say goodbye)."""
GOODBYE_TIMEOUT = 2.0
"""Seconds a bridge reached through its control endpoint has to answer ``shutdown``."""
COMMAND_TIMEOUT = 60.0
"""Seconds to wait for a task command's answer: longer than the sidecar's own wait for the
editor (30 s by default), so that its clearer error arrives first."""
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""The largest message accepted from the bridge."""

EXECUTE_COMMAND = "workspace/executeCommand"


def unreachable(
    record: DiscoveryRecord, error: OSError | ValueError | None, timeout: float
) -> BridgeConnectionError:
    """The error for a bridge that could not be reached: its endpoint refused or is malformed
    (``error``), or it did not accept the connection within ``timeout`` (``error`` None)."""
    where = f"the cline-bridge at {record.endpoint} (pid {record.pid})"
    if error is None:
        return BridgeTimeoutError(f"{where} did not accept a connection within {timeout:g} s")
    reason = error.strerror if isinstance(error, OSError) and error.strerror else error
    return BridgeConnectionError(f"cannot reach {where}: {reason}")


def initialize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``initialize`` request's params: who we are, plus ``params`` (options, folders)."""
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": CLIENT_NAME, "version": __version__},
        "capabilities": {},
        **params,
    }


def control_options(token: str, subscribe_events: bool) -> dict[str, Any]:
    """The ``initializationOptions`` that open a control connection."""
    options: dict[str, Any] = {"token": token}
    if subscribe_events:
        options["subscribe"] = ["taskEvents"]
    return options


def read_handshake(result: Any) -> tuple[dict[str, Any], list[str]]:
    """The bridge's ``serverInfo`` and the commands it offers, from its ``initialize`` result."""
    if not isinstance(result, dict):
        return {}, []
    info = result.get("serverInfo")
    capabilities = result.get("capabilities")
    provider = (
        capabilities.get("executeCommandProvider") if isinstance(capabilities, dict) else None
    )
    commands = provider.get("commands") if isinstance(provider, dict) else None
    return (
        dict(info) if isinstance(info, dict) else {},
        [c for c in commands if isinstance(c, str)] if isinstance(commands, list) else [],
    )


def command_params(command: str, arguments: Sequence[Any]) -> dict[str, Any]:
    return {"command": command, "arguments": list(arguments)}


def task_argument(key: str, text: str | None, images: Images | None) -> dict[str, Any]:
    """The one argument of ``startNewTask`` (``key`` "task") or ``sendMessage`` ("message")."""
    argument: dict[str, Any] = {}
    if text is not None:
        argument[key] = text
    if images is not None:
        argument["images"] = absolute_images(images)
    return argument


def button_arguments(force: bool) -> list[Any]:
    """The arguments of ``pressPrimaryButton`` / ``pressSecondaryButton``."""
    return [{"force": True}] if force else []


def absolute_images(images: Images) -> list[str]:
    """Images as the bridge needs them: file paths made absolute against the current directory
    (``~`` expanded); data URLs and ``file:`` URIs unchanged. The sidecar runs elsewhere, so a
    relative path would mean its working directory, not the caller's."""
    if isinstance(images, (str, bytes, os.PathLike)):
        raise TypeError("images must be a list of paths or data URLs, not a single one")
    result = []
    for image in images:
        text = os.fspath(image)
        if not isinstance(text, str):
            raise TypeError(f"an image must be a str or path, not {type(image).__name__}")
        if text.startswith(("data:", "file:")):
            result.append(text)
        else:
            result.append(os.path.abspath(os.path.expanduser(text)))
    return result


def answer_bridge_request(peer: JsonRpcPeer, request_id: Any, method: str) -> None:
    """Answer a request the bridge sent us. Nothing is expected of a script: it accepts a
    progress token (the bridge may create one for a chat) and knows no other method."""
    if method == "window/workDoneProgress/create":
        peer.respond(request_id, None)
    else:
        peer.respond_error(
            request_id, {"code": METHOD_NOT_FOUND, "message": f"Method not found: {method}"}
        )


def as_dict(result: Any) -> dict[str, Any]:
    return dict(result) if isinstance(result, dict) else {"result": result}


def describe_request(method: str, params: Any) -> str:
    """How a request is named in messages: its command, for ``workspace/executeCommand``."""
    if method == EXECUTE_COMMAND and isinstance(params, dict):
        return str(params.get("command"))
    return method
