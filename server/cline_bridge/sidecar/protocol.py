"""The sidecar's LSP protocol class: pygls's ``LanguageServerProtocol`` and what it lacks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import uuid
from collections.abc import Generator
from concurrent.futures import Future
from functools import partial
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from cline_bridge.sidecar import envelope
from cline_bridge.sidecar.commands import CommandRegistry, serving
from cline_bridge.sidecar.envelope import Refusal
from cline_bridge.sidecar.outbox import Outbox
from cline_bridge.sidecar.request_context import CancelRegistry, RequestContext
from cline_bridge.wire.errors import BridgeError
from cline_bridge.wire.names import CUSTOM_METHOD_PREFIX

logger = logging.getLogger(__name__)
_pygls_logger = logging.getLogger("pygls.protocol.json_rpc")

LOW_VALUE_METHODS = frozenset({types.WINDOW_LOG_MESSAGE, types.LOG_TRACE, types.TELEMETRY_EVENT})
"""Notifications the first to be dropped when the editor does not read (``outbox``)."""
EXIT_WAIT = 5.0
"""Seconds ``exit`` waits for a ``shutdown`` still running (its handler closes the host)."""
_HEADER = b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"


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
        response = error.to_response()  # redacted
        super().__init__(response["message"], error.code, response.get("data"))


class BridgeProtocol(LanguageServerProtocol):
    """The LSP protocol with what pygls 2.1 lacks for the sidecar.

    - Commands run through the sidecar's ``CommandRegistry`` (``commands``), the one the control
      endpoint uses too, so they answer alike on both; ``initialize`` announces its commands.
    - A command sees its request through ``request_context.current_request()``: the
      ``workDoneToken``, and a cancel by ``$/cancelRequest`` or ``window/workDoneProgress/cancel``.
      (pygls cancels a request only before it started, and a command handler never sees the
      request's params.)
    - Our custom methods' payloads stay plain JSON values.
    - Every request gets an answer (``receive``, ``handle_message``): a malformed one the
      JSON-RPC error for it (``envelope``), one before ``initialize`` -32002, a second
      ``initialize`` or one after ``shutdown`` -32600, never a traceback in ``data``.
    - Nothing is kept per message once it is answered (pygls keeps the future of every handler a
      generator handler runs, and of every request of ours that was not answered with a result).
    - Writing never blocks: with an ``Outbox`` as writer, log messages are dropped first when the
      editor does not read, and requests to it fail at once while it is stalled.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = CommandRegistry()
        self.cancels = CancelRegistry()
        self.initialize_received = False
        self._shutdown_id: Any = None
        """The id of the ``shutdown`` request, once one came: ``exit`` waits for its answer."""
        self._exiting: asyncio.Future[None] | None = None
        self.outbox: Outbox | None = None
        """The writer, when it is an ``Outbox`` (``use_outbox``)."""

    def use_outbox(self, outbox: Outbox) -> None:
        """Write through ``outbox`` (never blocking, bounded) from now on."""
        self.outbox = outbox
        self.set_writer(outbox)  # type: ignore[arg-type]  # pygls's writer, but close is awaitable

    # -- incoming --------------------------------------------------------------------------------

    def receive(self, body: bytes) -> None:
        """Handle one frame's body from the editor: answer what is malformed, pass the rest to
        pygls."""
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
            self._refuse(Refusal(envelope.PARSE_ERROR, "Parse error: the body is not JSON"))
            return
        refusal = envelope.check(message)
        if refusal is not None:
            self._refuse(refusal)
            return
        try:
            structured = self.structure_message(message)
        except JsonRpcException:  # pygls has logged why
            self._unstructured(message)
            return
        try:
            self.handle_message(structured)
        except Exception as error:  # a bug of pygls's or ours: the next message still counts
            logger.exception("could not handle %s", envelope.shown(message.get("method")))
            self._server._report_server_error(error, JsonRpcInternalError)

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if method is None:  # a response
            super().handle_message(message)
            return
        is_request = hasattr(message, "id")
        if not self.initialize_received:
            if method == types.INITIALIZE and is_request:
                self.initialize_received = True
            elif is_request:
                self._refuse(
                    Refusal(
                        envelope.SERVER_NOT_INITIALIZED,
                        f"Server not initialized: {envelope.shown(method)} came before initialize",
                        message.id,
                    )
                )
                return
            elif method != types.EXIT:  # LSP: notifications before initialize are dropped
                logger.warning("dropped %s: it came before initialize", envelope.shown(method))
                return
        elif is_request and method == types.INITIALIZE:
            self._refuse(
                Refusal(
                    envelope.INVALID_REQUEST,
                    "Invalid Request: the initialize request may only be sent once",
                    message.id,
                )
            )
            return
        elif is_request and self._shutdown_id is not None:
            self._refuse(
                Refusal(
                    envelope.INVALID_REQUEST,
                    f"Invalid Request: {envelope.shown(method)} came after shutdown",
                    message.id,
                )
            )
            return
        elif is_request and method == types.SHUTDOWN:
            self._shutdown_id = message.id
        super().handle_message(message)

    def _unstructured(self, message: dict[str, Any]) -> None:
        """A message whose params (or result) do not have the shape its method's type demands."""
        method = message.get("method")
        if method is None:
            # A response of the wrong shape: whoever waits for it hears so now, not at timeout.
            logger.warning("a response from the editor has the wrong shape")
            error = types.ResponseError(envelope.INVALID_REQUEST, "malformed response")
            self._handle_response(message["id"], error=error)
        else:
            self._refuse(
                Refusal(
                    envelope.INVALID_PARAMS,
                    f"Invalid params for {envelope.shown(method)}",
                    message.get("id"),
                    answer="id" in message,
                )
            )

    def _refuse(self, refusal: Refusal) -> None:
        logger.warning("refused a message from the editor: %s", refusal.message)
        if refusal.answer:
            # A plain dict: lsprotocol's converter would leave out an id of None, and JSON-RPC
            # wants "id": null when the request's id could not be read.
            error = {"code": refusal.code, "message": refusal.message}
            self._send_data({"jsonrpc": "2.0", "id": refusal.reply_to, "error": error})

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        self.cancels.cancel_request(msg_id)

    # -- lifecycle --------------------------------------------------------------------------------

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, Any]:
        result = yield from super().lsp_initialize(params)
        # pygls lists the commands of its own registry, which the sidecar does not use.
        result.capabilities.execute_command_provider = types.ExecuteCommandOptions(
            commands=self.commands.names()
        )
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        # pygls cancels the futures while it iterates over their dict, which a cancelled future's
        # callback changes: iterate over a copy.
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """End the process: status 0 if ``shutdown`` came first, else 1 (LSP), once the answer to
        ``shutdown`` and everything queued for the editor is written (at most a few seconds)."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        # A task of its own, not a yielded handler: shutdown cancels the handlers in flight, and
        # exit may be one of them when it is sent without waiting for shutdown's answer.
        self._exiting = asyncio.ensure_future(self._exit(0 if self._shutdown_id is not None else 1))

    async def _exit(self, status: int) -> None:
        # pygls would exit when shutdown has not been answered yet (exit sent without waiting,
        # as a file of messages does), and would call that exiting without shutdown.
        shutdown = self._request_futures.get(self._shutdown_id)
        if shutdown is not None and not shutdown.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(shutdown)), EXIT_WAIT)
        if self.outbox is not None:
            await self.outbox.aclose()
        sys.exit(status)

    # -- commands --------------------------------------------------------------------------------

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

    # -- what pygls keeps per message ------------------------------------------------------------

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        # pygls files the future of each handler under msg_id, and forgets it only when it
        # answers a request: a notification's, or the inner handler a generator handler yields
        # (every workspace/executeCommand), would stay for good (2 KB a command).
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(partial(self._forget_future, msg_id))

    def _forget_future(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def send_request(
        self,
        method: str,
        params: Any | None = None,
        callback: Any | None = None,
        msg_id: Any | None = None,
    ) -> Future[Any]:
        """pygls's, but failed at once while the editor does not read (``Outbox.stall``), and
        forgotten once answered, failed or cancelled."""
        stall = self.outbox.stall() if self.outbox is not None else None
        if stall is not None:
            logger.warning("%s not sent: %s", method, stall)
            failed: Future[Any] = Future()
            failed.set_exception(JsonRpcException(f"{stall}; {method} was not sent"))
            return failed
        if msg_id is None:
            msg_id = str(uuid.uuid4())
        future = super().send_request(method, params, callback, msg_id)
        future.add_done_callback(partial(self._forget_request, msg_id))
        return future

    def _forget_request(self, msg_id: Any, future: Future[Any]) -> None:
        # pygls forgets a request's result type only when a result arrives: not for an error
        # answer, nor for a request given up (the editor host's timeout).
        self._forget_future(msg_id, future)
        self._result_types.pop(msg_id, None)

    # -- outgoing --------------------------------------------------------------------------------

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            # pygls's answer to an exception it did not expect: its traceback as data, its text
            # (which may quote the request) as message. The log has both.
            kind = error.message.partition(":")[0] if ":" in error.message else "an exception"
            error = types.ResponseError(
                code=error.code,
                message=f"Internal error: the request failed inside the sidecar ({kind}); "
                "see its log",
            )
        super()._send_response(msg_id, result, error)

    def _send_data(self, data: Any) -> None:
        writer = self.outbox
        if not data or writer is None:
            super()._send_data(data)
            return
        low_value = getattr(data, "method", None) in LOW_VALUE_METHODS and not hasattr(data, "id")
        if low_value and writer.drops_low_value():
            writer.send(b"", low_value=True)  # counted as dropped, never built
            return
        try:
            body = json.dumps(data, default=self._serialize_message)
            if _pygls_logger.isEnabledFor(logging.INFO):
                _pygls_logger.info("Sending data: %s", body)
            encoded = body.encode()
            writer.send(_HEADER % len(encoded) + encoded, low_value=low_value)
        except Exception as error:
            logger.exception("could not send a message to the editor")
            self._server._report_server_error(error, JsonRpcInternalError)

    # The parent wraps this method in lru_cache, which mypy sees as a different signature.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith(CUSTOM_METHOD_PREFIX):
            return RawResponse
        return super().get_result_type(method)
