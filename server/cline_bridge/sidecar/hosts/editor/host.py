"""The editor host: the editor itself calls Cline's ClineAPI exports.

Each operation becomes a server-to-client request (``clineBridge/startNewTask`` ...) to an editor
that said ``clineApi: true`` at initialize. ClineAPI is fire-and-forget: its methods resolve once
the action is dispatched, so success here means "dispatched", never "done".
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.base import Reply, TaskHost
from cline_bridge.wire import names
from cline_bridge.wire.errors import ClineUnavailableError

logger = logging.getLogger(__name__)


class EditorHost(TaskHost):
    name = "editor"

    def __init__(self, connection: LanguageServerProtocol, request_timeout: float) -> None:
        self._connection = connection
        self._request_timeout = request_timeout

    def start_new_task(self, task: TextAndImages) -> Reply:
        return self._forward(names.REQ_START_NEW_TASK, task.as_params("task"))

    def send_message(self, message: TextAndImages) -> Reply:
        return self._forward(names.REQ_SEND_MESSAGE, message.as_params("message"))

    def press_primary_button(self) -> Reply:
        return self._forward(names.REQ_PRESS_PRIMARY_BUTTON, {})

    def press_secondary_button(self) -> Reply:
        return self._forward(names.REQ_PRESS_SECONDARY_BUTTON, {})

    def _forward(self, method: str, params: dict[str, Any]) -> Reply:
        """Send the request now; the returned coroutine waits for the editor's answer."""
        request_id = f"{method}:{uuid.uuid4().hex[:12]}"
        reply = self._connection.send_request_async(method, params, msg_id=request_id)
        return self._await_reply(method, request_id, reply)

    async def _await_reply(
        self, method: str, request_id: str, reply: Awaitable[Any]
    ) -> dict[str, Any]:
        try:
            await asyncio.wait_for(reply, self._request_timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            # Tell the editor we stopped waiting, so it can drop the request.
            self._connection.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
            logger.warning("%s: no answer within %gs", method, self._request_timeout)
            raise ClineUnavailableError(
                f"The editor did not answer {method} within {self._request_timeout:g} s; "
                "Cline or the bridge extension may be busy or stuck. Nothing was confirmed."
            ) from None
        except JsonRpcException as error:
            raise ClineUnavailableError(error.message, data={"method": method}) from None
        logger.info("%s dispatched to Cline", method)
        return {"host": self.name, "dispatched": True}
