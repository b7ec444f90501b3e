"""The control endpoint's life in the sidecar: start it with its discovery file, stop both."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cline_bridge import __version__
from cline_bridge.sidecar.control.endpoint import ControlEndpoint
from cline_bridge.sidecar.termination import on_signal_end
from cline_bridge.wire.discovery import (
    DiscoveryRecord,
    remove_discovery,
    runtime_dir,
    write_discovery,
)

if TYPE_CHECKING:
    from cline_bridge.sidecar.commands import CommandRegistry

logger = logging.getLogger(__name__)


class ControlService:
    """One sidecar's control endpoint and discovery file. A failure to start is logged, never
    fatal: the editor's own connection does not depend on it."""

    def __init__(self, commands: CommandRegistry, transport: str) -> None:
        self._commands = commands
        self._transport = transport
        self.endpoint: ControlEndpoint | None = None
        self.discovery_file: Path | None = None

    async def start(self, workspace_folders: list[str], host: str) -> None:
        endpoint = ControlEndpoint(self._commands, self._transport)
        try:
            folder = runtime_dir(create=True)
            address = await endpoint.start(folder / f"{os.getpid()}.sock")
            record = DiscoveryRecord(
                pid=os.getpid(),
                endpoint=address,
                token=endpoint.token,
                workspace_folders=tuple(workspace_folders),
                host=host,
                version=__version__,
                started_at=datetime.datetime.now(datetime.timezone.utc).isoformat(),
            )
            self.discovery_file = write_discovery(record)
        except Exception as error:
            logger.warning("control endpoint not started: %s", error)
            await endpoint.close()
            return
        self.endpoint = endpoint
        # The file must not outlive the process, even when it ends without a shutdown, or by a
        # signal (an editor ending its server with SIGTERM).
        atexit.register(self._remove_file)
        on_signal_end(self._remove_file)
        logger.info("control endpoint %s (discovery file %s)", address, self.discovery_file)

    def describe(self) -> dict[str, Any] | None:
        """What ``clineBridge.status`` says about it: where, never the token."""
        if self.endpoint is None or self.discovery_file is None:
            return None
        return {"endpoint": self.endpoint.address, "discoveryFile": str(self.discovery_file)}

    def broadcast(self, method: str, params: Any) -> None:
        if self.endpoint is not None:
            self.endpoint.broadcast(method, params)

    async def stop(self) -> None:
        self._remove_file()
        if self.endpoint is not None:
            await self.endpoint.close()
            self.endpoint = None

    def _remove_file(self) -> None:
        if self.discovery_file is not None:
            with contextlib.suppress(OSError):
                remove_discovery(os.getpid())
            self.discovery_file = None
