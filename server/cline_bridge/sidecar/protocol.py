"""The sidecar's LSP protocol class: pygls's ``LanguageServerProtocol`` and what it lacks."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from cline_bridge.sidecar.commands import CommandRegistry, serving
from cline_bridge.sidecar.request_context import CancelRegistry, RequestContext
from cline_bridge.wire.errors import BridgeError
from cline_bridge.wire.names import CUSTOM_METHOD_PREFIX


@attrs.define
class RawResponse:
    """A JSON-RPC response whose ``result`` is kept exactly as it arrived.

    pygls turns the payload of a method it has no type for into a namedtuple, which would later be
    serialised as a JSON array and lose keys that are not identifiers.
    """

    id: Any
    jsonrpc: str
    result: Any = None


class CommandFailed(JsonRpcException):
    """A command's error answer (a ``BridgeError``), in the form pygls sends back.

    The registry has logged it already, so the log filter (``logs``) drops pygls's traceback.
    """

    def __init__(self, error: BridgeError) -> None:
        super().__init__(error.message, error.code, error.data)


class BridgeProtocol(LanguageServerProtocol):
    """The LSP protocol with what pygls 2.1 lacks for the sidecar.

    - Commands run through the sidecar's ``CommandRegistry`` (``commands``), the one the control
      endpoint uses too, so they answer alike on both; ``initialize`` announces its commands.
    - A command sees its request through ``request_context.current_request()``: the
      ``workDoneToken``, and a cancel by ``$/cancelRequest`` or ``window/workDoneProgress/cancel``.
      (pygls cancels a request only before it started, and a command handler never sees the
      request's params.)
    - Our custom methods' payloads stay plain JSON values.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = CommandRegistry()
        self.cancels = CancelRegistry()

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        self.cancels.cancel_request(msg_id)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, Any]:
        result = yield from super().lsp_initialize(params)
        # pygls lists the commands of its own registry, which the sidecar does not use.
        result.capabilities.execute_command_provider = types.ExecuteCommandOptions(
            commands=self.commands.names()
        )
        return result

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        return (yield self._execute_command, (params, self.msg_id), None)

    async def _execute_command(self, params: types.ExecuteCommandParams, msg_id: Any) -> Any:
        token = params.work_done_token
        context = RequestContext(work_done_token=token, progress=self.progress)
        try:
            with serving(msg_id, context, self.cancels):
                return await self.commands.run(params.command, params.arguments)
        except BridgeError as error:
            raise CommandFailed(error) from None
        finally:
            # pygls keeps a future for every token it saw begin; this request is over.
            if token is not None:
                self.progress.tokens.pop(token, None)

    # The parent wraps this method in lru_cache, which mypy sees as a different signature.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith(CUSTOM_METHOD_PREFIX):
            return RawResponse
        return super().get_result_type(method)
