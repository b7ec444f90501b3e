"""The Python library for scripts: drive the Cline panel of a running sidecar.

A sidecar (started by VS Code's Cline Bridge extension, or by another editor with
``cline-bridge serve``) listens on a private control endpoint. ``Bridge`` finds it (see
``wire.discovery.select_bridge``), presents the token from its discovery file, and runs the
same commands as the editor::

    import asyncio
    from cline_bridge.client import Bridge

    async def main() -> None:
        async with Bridge.connect() as bridge:
            await bridge.start_new_task("Fix the failing test", images=["shot.png"])
            print(await bridge.status())

    asyncio.run(main())

One-line scripts can use the blocking functions, which connect, call and close (without an
event loop: they work inside one too, blocking it)::

    import cline_bridge.client as cline

    cline.start_new_task("Add type hints to utils.py")
    cline.approve()

Without an editor, ``Bridge.headless()`` starts a private sidecar of its own (``cline-bridge
serve`` as a child process, talking over its stdio) for the current folder; its tasks run in the
Cline CLI and end when the bridge is closed::

    async with Bridge.headless() as bridge:
        result = await bridge.start_new_task("Add a --verbose flag")
        async for event in bridge.events():
            ...

Every failure is a ``BridgeError``; see ``wire.errors`` for the classes and their codes.

The modules: ``bridge`` (``Bridge``, asyncio), ``blocking`` (the blocking functions and
``BridgeConnection``), ``headless`` (the private sidecar), ``session`` (what both say). None
imports pygls or lsprotocol, and ``Bridge`` (with asyncio) loads only when it is first used, so
a blocking call starts in a few milliseconds.
"""

from __future__ import annotations

from cline_bridge.client.blocking import (
    BridgeConnection,
    approve,
    reject,
    send_message,
    start_new_task,
    status,
)
from cline_bridge.client.session import CLIENT_NAME as CLIENT_NAME
from cline_bridge.client.session import COMMAND_TIMEOUT as COMMAND_TIMEOUT
from cline_bridge.client.session import CONNECT_TIMEOUT as CONNECT_TIMEOUT
from cline_bridge.client.session import MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from cline_bridge.client.session import absolute_images as absolute_images
from cline_bridge.wire.errors import (
    ApiError,
    BridgeConnectionError,
    BridgeError,
    BridgeNotFoundError,
    BridgeTimeoutError,
    ClineUnavailableError,
    InternalError,
    InvalidArgumentsError,
    NoApiKeyError,
    NoHostError,
    NotAuthorisedError,
    RequestCancelledError,
    RuntimeDirError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cline_bridge.client.bridge import CHAT_TIMEOUT as CHAT_TIMEOUT
    from cline_bridge.client.bridge import Bridge
    from cline_bridge.client.headless import HEADLESS_TIMEOUT as HEADLESS_TIMEOUT
    from cline_bridge.client.session import Images as Images

__all__ = [
    "ApiError",
    "Bridge",
    "BridgeConnection",
    "BridgeConnectionError",
    "BridgeError",
    "BridgeNotFoundError",
    "BridgeTimeoutError",
    "ClineUnavailableError",
    "InternalError",
    "InvalidArgumentsError",
    "NoApiKeyError",
    "NoHostError",
    "NotAuthorisedError",
    "RequestCancelledError",
    "RuntimeDirError",
    "approve",
    "reject",
    "send_message",
    "start_new_task",
    "status",
]

CancelledError = RequestCancelledError
"""The old name of ``RequestCancelledError``, kept for scripts that use it. Not in ``__all__``: a
star import would shadow ``asyncio.CancelledError``."""


def __getattr__(name: str) -> Any:
    # Loaded on first use: they bring asyncio, which the blocking functions do without.
    if name in ("Bridge", "CHAT_TIMEOUT"):
        from cline_bridge.client import bridge

        return getattr(bridge, name)
    if name == "HEADLESS_TIMEOUT":
        from cline_bridge.client import headless

        return headless.HEADLESS_TIMEOUT
    if name == "Images":
        import os
        from collections.abc import Sequence

        return Sequence[str | os.PathLike[str]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
