"""The sidecar's commands, in one registry that every connection runs them through.

A command reaches the sidecar on the editor's LSP connection (``workspace/executeCommand``, see
``protocol``) or on a script's control connection (``control.endpoint``). Both ask this registry
to ``run`` it, so a command checks its arguments, runs and fails the same way on both: its answer
is a result or a ``wire.errors.BridgeError``, whose code the connection sends. A failure that is no
answer (a bug) is logged here with its traceback and answered as -32603, on both connections alike.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from cline_bridge.sidecar.request_context import CURRENT_REQUEST, CancelRegistry, RequestContext
from cline_bridge.wire.errors import BridgeError, InternalError, InvalidArgumentsError

logger = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], Awaitable[Any]]
"""A command: called with the command's ``arguments`` (always a list), returns its result."""


class CommandRegistry:
    """The commands by name. Features ``add`` theirs; connections ``run`` them."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, name: str, handler: Handler) -> None:
        if name in self._handlers:
            raise ValueError(f"command {name!r} is registered twice")
        self._handlers[name] = handler

    def names(self) -> list[str]:
        """Every command's name, sorted: what ``initialize`` announces on both connections."""
        return sorted(self._handlers)

    async def run(self, name: str, arguments: Any) -> Any:
        """Run command ``name`` with ``arguments`` (an array; null means none).

        Raises ``BridgeError`` only: the command's own error answer, -32602 for an unknown command
        or arguments that are not an array, -32603 for anything else the command raised.
        """
        handler = self._handlers.get(name)
        if handler is None:
            raise InvalidArgumentsError(f"Command name {name!r} is not defined")
        if arguments is None:
            arguments = []
        # A list from JSON; pygls's converter gives a tuple.
        if not isinstance(arguments, (list, tuple)):
            raise InvalidArgumentsError(f"{name}: arguments must be an array")
        try:
            return await handler(list(arguments))
        except BridgeError as error:
            # An answer, not a fault of the sidecar: one line, no traceback.
            logger.info("%s answered %s: %s", name, error.code, error.message)
            raise
        except Exception as error:
            logger.exception("%s failed", name)
            # Not the exception's text: it is no answer the caller can act on, and it may quote
            # what it failed on. The log has the whole story.
            raise InternalError(
                f"{name} failed inside the sidecar ({type(error).__name__}); see its log"
            ) from None


@contextlib.contextmanager
def serving(request_id: Any, context: RequestContext, cancels: CancelRegistry) -> Iterator[None]:
    """Make ``context`` the current request's, cancellable through ``cancels``, while inside.

    Entered by each connection in the task that runs the command, whose context the command's
    own tasks inherit (``request_context.current_request``).
    """
    CURRENT_REQUEST.set(context)
    cancels.register(request_id, context)
    try:
        yield
    finally:
        cancels.release(request_id, context)
