"""The sidecar's language server: state, lifecycle and the status command."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from cline_bridge import __version__
from cline_bridge.sidecar.cline_records import cline_data_dir
from cline_bridge.sidecar.control.service import ControlService
from cline_bridge.sidecar.features import chat, code_actions, tasks
from cline_bridge.sidecar.hosts import EditorHost, TaskHost, UnavailableHost
from cline_bridge.sidecar.hosts.unavailable import NO_CLI_MESSAGE
from cline_bridge.sidecar.logs import PACKAGE_LOGGER, ClientLogHandler
from cline_bridge.sidecar.protocol import BridgeProtocol
from cline_bridge.sidecar.settings import Settings
from cline_bridge.wire import names
from cline_bridge.wire.errors import NoApiKeyError

if TYPE_CHECKING:
    from pygls.server import ServerErrors

    from cline_bridge.api.cline_client import ClineClient
    from cline_bridge.sidecar.hosts.acp.feedback import EditorFeedback

# Unix sockets where there are any; TCP on 127.0.0.1 otherwise (the same token protects both).
DEFAULT_CONTROL_TRANSPORT = "tcp" if sys.platform == "win32" else "unix"
NO_API_KEY_MESSAGE = (
    "No Cline API key configured: set initializationOptions.apiKey or the CLINE_API_KEY "
    "environment variable (in VS Code: Cline Bridge: Set API Key)"
)

logger = logging.getLogger(__name__)


class BridgeServer(LanguageServer):
    """pygls's ``LanguageServer`` with the sidecar's settings and its task host."""

    protocol: BridgeProtocol

    def __init__(self, control_transport: str = DEFAULT_CONTROL_TRANSPORT) -> None:
        super().__init__(names.SERVER_NAME, __version__, protocol_cls=BridgeProtocol)
        self.commands = self.protocol.commands
        """Every command, for the editor's connection and the control endpoint alike."""
        self.control = ControlService(self.commands, control_transport)
        self.settings = Settings()
        self.host: TaskHost = UnavailableHost()
        self.client_log = ClientLogHandler(self)
        self._rest_client: ClineClient | None = None
        self._feedback: EditorFeedback | None = None

    def configure(self, params: types.InitializeParams) -> None:
        """Read the client's options and choose the task host, once, at initialize."""
        self.settings = Settings.from_initialization_options(
            params.initialization_options, os.environ
        )
        if self.settings.cline_api:
            self.host = EditorHost(
                self.protocol,
                self.settings.host_request_timeout,
                self.publish_task_event,
                data_dir=cline_data_dir(os.environ),
                # Cline runs in the extension host, the sidecar's parent unless said otherwise.
                window_pid=self.settings.cline_window_pid or os.getppid(),
                cline_version=self.settings.cline_version,
                cline_installed=self.settings.cline_installed,
            )
        else:
            self.host = self._acp_host(params)

    def _acp_host(self, params: types.InitializeParams) -> TaskHost:
        """The ACP host, if the Cline CLI can be found; otherwise no host, saying why."""
        # Imported here: an editor with the ClineAPI never loads them (start-up is measured).
        from cline_bridge.sidecar.hosts.acp.feedback import EditorFeedback
        from cline_bridge.sidecar.hosts.acp.host import AcpHost
        from cline_bridge.sidecar.hosts.acp.launch import plan_launch

        command = self.settings.acp_command
        folders = self.workspace_paths()
        launch = plan_launch(
            command, self.settings.acp_env, os.environ, folders[0] if folders else os.getcwd()
        )
        if launch is None:
            return UnavailableHost(NO_CLI_MESSAGE.format(program=command[0]))
        host = AcpHost(launch, self.publish_task_event)
        self._feedback = EditorFeedback(self.protocol, params.capabilities, host.answer_ask)
        return host

    def publish_task_event(self, event: dict[str, Any]) -> None:
        """Send a task event to the editor and to the scripts that subscribed."""
        self.protocol.notify(names.NOTIFY_TASK_EVENT, event)
        self.control.broadcast(names.NOTIFY_TASK_EVENT, event)
        if self._feedback is not None:
            self._feedback.on_event(event)

    def rest_client(self) -> ClineClient:
        """The REST client for the configured key and base URL (-32003 without a key)."""
        if self.settings.api_key is None:
            raise NoApiKeyError(NO_API_KEY_MESSAGE)
        if self._rest_client is None:
            from cline_bridge.api.cline_client import ClineClient  # loads httpx: only when needed

            self._rest_client = ClineClient(
                api_key=self.settings.api_key,
                base_url=self.settings.api_base_url,
                **self.settings.api_time_bounds,
            )
        return self._rest_client

    async def close(self) -> None:
        """Stop the control endpoint; release the host and the REST client's connections."""
        await self.control.stop()
        await self.host.close()
        if self._rest_client is not None:
            await self._rest_client.aclose()
            self._rest_client = None

    def report_server_error(self, error: Exception, source: ServerErrors) -> None:
        # A failed request has already been answered with its error. For anything else pygls
        # would pop up a message in the editor; a log line is enough.
        if source is not FeatureRequestError:
            logger.error("internal error (%s): %s", source.__name__, error)

    def workspace_paths(self) -> list[str]:
        """The workspace folders as filesystem paths (the root, for a client without folders)."""
        uris = [folder.uri for folder in self.workspace.folders.values()]
        if not uris and self.workspace.root_uri:
            uris = [self.workspace.root_uri]
        return [path for uri in uris if (path := to_fs_path(uri))]

    def status(self) -> dict[str, Any]:
        """The ``clineBridge.status`` result. It names whether a key is set, never the key."""
        return {
            "name": names.SERVER_NAME,
            "version": __version__,
            "pid": os.getpid(),
            "host": self.host.name,
            self.host.name: self.host.describe(),
            "apiBaseUrl": self.settings.api_base_url,
            "apiKeyConfigured": self.settings.api_key is not None,
            "model": self.settings.model,
            "workspaceFolders": [folder.uri for folder in self.workspace.folders.values()],
            "control": self.control.describe(),
        }


def create_server(control_transport: str = DEFAULT_CONTROL_TRANSPORT) -> BridgeServer:
    server = BridgeServer(control_transport)
    logging.getLogger(PACKAGE_LOGGER).addHandler(server.client_log)

    @server.feature(types.INITIALIZE)
    async def initialize(ls: BridgeServer, params: types.InitializeParams) -> None:
        ls.configure(params)
        client = params.client_info.name if params.client_info else "an unnamed client"
        logger.info("initialize from %s: host %s", client, ls.host.name)
        # Before the answer to initialize, so that the editor can hand the discovery file to
        # its terminals as soon as it has the answer.
        if ls.settings.control:
            await ls.control.start(ls.workspace_paths(), ls.host.name)

    @server.feature(types.INITIALIZED)
    def initialized(ls: BridgeServer, params: types.InitializedParams) -> None:
        ls.client_log.activate()
        ls.host.start()
        logger.info(
            "cline-bridge %s ready, pid %d, host %s", __version__, os.getpid(), ls.host.name
        )

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: BridgeServer, params: None) -> None:
        logger.info("shutting down")
        await ls.close()

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel_progress(ls: BridgeServer, params: types.WorkDoneProgressCancelParams) -> None:
        ls.protocol.cancels.cancel_progress(params.token)

    async def status(arguments: Sequence[Any]) -> dict[str, Any]:
        return server.status()

    server.commands.add(names.CMD_STATUS, status)

    tasks.register(server)
    code_actions.register(server)
    chat.register(server)
    return server
