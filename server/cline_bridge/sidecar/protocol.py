"""The sidecar's LSP protocol class: pygls's ``LanguageServerProtocol`` and what it lacks."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import attrs
from lsprotocol import types
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from cline_bridge.sidecar.request_context import CURRENT_REQUEST, CancelRegistry, RequestContext
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


class BridgeProtocol(LanguageServerProtocol):
    """The LSP protocol with two additions pygls 2.1 lacks.

    - Our custom methods' payloads stay plain JSON values.
    - A command sees its request through ``requests.current_request()``: the ``workDoneToken``,
      and a cancel by ``$/cancelRequest`` or ``window/workDoneProgress/cancel``. (pygls cancels a
      request only before it started, and a command handler never sees the request's params.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancels = CancelRegistry()

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        self.cancels.cancel_request(msg_id)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        # Set in this request's own context, which the command's task inherits.
        token = params.work_done_token
        context = RequestContext(work_done_token=token, progress=self.progress)
        CURRENT_REQUEST.set(context)
        msg_id = self.msg_id
        self.cancels.register(msg_id, context)
        try:
            return (yield from super().lsp_workspace__execute_command(params))
        finally:
            self.cancels.release(msg_id, context)
            # pygls keeps a future for every token it saw begin; this request is over.
            if token is not None:
                self.progress.tokens.pop(token, None)

    # The parent wraps this method in lru_cache, which mypy sees as a different signature.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith(CUSTOM_METHOD_PREFIX):
            return RawResponse
        return super().get_result_type(method)
