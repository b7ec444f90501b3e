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
        check_text(name, arguments)
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


MAX_ARGUMENT_DEPTH = 64
"""How deeply a command's arguments may nest; real ones (chat messages with content parts and
tool calls) stay under ten levels."""


def check_text(name: str, arguments: Sequence[Any]) -> None:
    """Refuse (-32602) arguments nested over ``MAX_ARGUMENT_DEPTH`` levels, or holding a string
    that is not valid Unicode (a lone surrogate, which JSON can carry as ``\\ud800``): every
    command would fail later, encoding it, with no clear answer. Iterative: no depth can make it
    recurse."""
    pending: list[tuple[Any, str, int]] = [(arguments, "arguments", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and not _encodes(value):
                raise InvalidArgumentsError(
                    f"{name}: {path} is not valid Unicode text (it holds a lone surrogate)"
                )
        elif isinstance(value, (list, tuple, dict)):
            if depth >= MAX_ARGUMENT_DEPTH:
                raise InvalidArgumentsError(
                    f"{name}: arguments nest over {MAX_ARGUMENT_DEPTH} levels deep"
                )
            if isinstance(value, dict):
                for key, item in value.items():
                    pending.append((key, f"a key of {path}", depth + 1))
                    pending.append((item, f"{path}.{_shown(key)}", depth + 1))
            else:
                pending.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))


def _shown(key: Any) -> str:
    """A key as a message may quote it: a short printable ASCII name, else ``[…]``."""
    if isinstance(key, str) and key.isascii() and key.isprintable() and len(key) <= 40:
        return key
    return "[…]"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
