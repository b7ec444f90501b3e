"""One JSON-RPC 2.0 peer, without I/O: what every connection of ours does with its messages.

A peer numbers the requests it sends and remembers each until its answer arrives; it sorts what
arrives into answers (each handed to the reply that waits for it), requests and notifications
(handed to its owner); and it builds the messages it sends. Its owner moves the bytes: ``send``
writes one message, and the owner calls ``receive`` with each message it has read. So the script
library (over a socket or a headless sidecar's stdio, blocking or with asyncio), the sidecar's
control endpoint and its connection to the Cline CLI (newline-delimited JSON) read ids, answers
and odd messages one way.

A reply is anything with ``done``, ``set_result`` and ``set_exception``: an ``asyncio.Future``
for the asyncio connections, a plain slot for the blocking one.
"""

from __future__ import annotations

import itertools

from cline_bridge.wire.errors import error_from_response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol

    class Reply(Protocol):
        """Where the answer to one request goes."""

        def done(self) -> bool: ...

        def set_result(self, result: Any, /) -> None: ...

        def set_exception(self, exception: BaseException, /) -> None: ...

    Send = Callable[[dict[str, Any]], None]
    RequestHandler = Callable[[Any, str, Any], None]
    """Called with (request id, method, params) for each request that arrives; the owner answers
    it, now or later, with ``respond`` or ``respond_error``."""
    NotificationHandler = Callable[[str, Any], None]
    ErrorFactory = Callable[[str, Any], BaseException]
    """Makes the exception for an error answer from (the request's method, the ``error``)."""

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601


class JsonRpcPeer:
    def __init__(
        self,
        send: Send,
        *,
        error_factory: ErrorFactory | None = None,
        on_request: RequestHandler | None = None,
        on_notification: NotificationHandler | None = None,
    ) -> None:
        """``send`` writes one message (it may raise, e.g. when the connection is closed).
        ``error_factory`` makes the exceptions of error answers (default: the bridge's own
        ``wire.errors`` classes). Requests that arrive without an ``on_request`` are answered
        "method not found"; notifications without an ``on_notification`` are dropped."""
        self._send = send
        self._error_factory = error_factory or _bridge_error
        self._on_request = on_request
        self._on_notification = on_notification
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, Reply]] = {}

    # -- sending --------------------------------------------------------------------------------

    def request(self, method: str, params: Any, reply: Reply) -> int:
        """Send a request (``params`` None: none); its answer goes to ``reply``. Returns its id,
        for ``forget`` when the owner stops waiting."""
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._pending[request_id] = (method, reply)
        try:
            self._send(message)
        except BaseException:
            del self._pending[request_id]
            raise
        return request_id

    def forget(self, request_id: int) -> None:
        """Stop waiting for an answer: one that arrives later is dropped."""
        self._pending.pop(request_id, None)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def respond(self, request_id: Any, result: Any) -> None:
        self._send({"jsonrpc": "2.0", "id": request_id, "result": result})

    def respond_error(self, request_id: Any, error: Mapping[str, Any]) -> None:
        """Answer with ``error``: ``{code, message}`` and, when not None, ``data``."""
        member = {key: value for key, value in error.items() if key != "data" or value is not None}
        self._send({"jsonrpc": "2.0", "id": request_id, "error": member})

    # -- receiving ------------------------------------------------------------------------------

    def receive(self, message: Any) -> bool:
        """Handle one message that arrived. False if it is no JSON-RPC message at all (not an
        object), which is otherwise ignored; the owner decides whether that ends the connection.

        An answer goes to its reply (an answer nobody waits for is dropped); a request or a
        notification goes to its handler; a request with a method that is not a string is
        answered "invalid request".
        """
        if not isinstance(message, dict):
            return False
        method = message.get("method")
        if method is None:
            self._on_answer(message)
        elif not isinstance(method, str):
            if "id" in message:
                self.respond_error(
                    message["id"], {"code": INVALID_REQUEST, "message": "method must be a string"}
                )
        elif "id" in message:
            if self._on_request is None:
                self.respond_error(
                    message["id"],
                    {"code": METHOD_NOT_FOUND, "message": f"Method not found: {method}"},
                )
            else:
                self._on_request(message["id"], method, message.get("params"))
        elif self._on_notification is not None:
            self._on_notification(method, message.get("params"))
        return True

    def fail_pending(self, error: BaseException) -> None:
        """The connection is gone: every request still waiting fails with ``error``."""
        pending = list(self._pending.values())
        self._pending.clear()
        for _, reply in pending:
            if not reply.done():
                reply.set_exception(error)

    def _on_answer(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return  # not one of ours: we number requests with integers
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return
        method, reply = entry
        if reply.done():
            return
        if "error" in message:
            reply.set_exception(self._error_factory(method, message["error"]))
        else:
            reply.set_result(message.get("result"))


def _bridge_error(method: str, error: Any) -> BaseException:
    return error_from_response(error)
