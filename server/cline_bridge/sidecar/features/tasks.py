"""The four task commands: validate the arguments, then hand the operation to the host."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cline_bridge.sidecar.arguments import parse_button_arguments, parse_text_and_images
from cline_bridge.sidecar.hosts.base import Reply, TaskHost
from cline_bridge.wire import names

if TYPE_CHECKING:
    from cline_bridge.sidecar.commands import Handler
    from cline_bridge.sidecar.features import Sidecar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Operation:
    command: str
    validate: Callable[[Sequence[Any]], Awaitable[Any]]
    """Checks the command's arguments and returns what ``submit`` takes (-32602 otherwise)."""
    submit: Callable[[TaskHost, Any], Reply]


async def _button_arguments(command: str, arguments: Sequence[Any]) -> bool:
    return parse_button_arguments(command, arguments)


OPERATIONS = (
    Operation(
        names.CMD_START_NEW_TASK,
        lambda args: parse_text_and_images(names.CMD_START_NEW_TASK, args, "task"),
        lambda host, task: host.start_new_task(task),
    ),
    Operation(
        names.CMD_SEND_MESSAGE,
        lambda args: parse_text_and_images(names.CMD_SEND_MESSAGE, args, "message"),
        lambda host, message: host.send_message(message),
    ),
    Operation(
        names.CMD_PRESS_PRIMARY_BUTTON,
        lambda args: _button_arguments(names.CMD_PRESS_PRIMARY_BUTTON, args),
        lambda host, force: host.press_primary_button(force),
    ),
    Operation(
        names.CMD_PRESS_SECONDARY_BUTTON,
        lambda args: _button_arguments(names.CMD_PRESS_SECONDARY_BUTTON, args),
        lambda host, force: host.press_secondary_button(force),
    ),
)


class ArrivalOrder:
    """Submits operations to the host in the order their commands arrived.

    Validation can take different times (a command with an image file waits for the file), so a
    later command could otherwise overtake an earlier one: an "approve" would reach Cline before the
    task it approves. Each command takes its place on arrival and submits only once the command
    before it has submitted or failed; the replies still overlap.
    """

    def __init__(self) -> None:
        self._last: asyncio.Future[None] | None = None

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Take a place now; inside the block, ``await`` the yielded function before submitting."""
        previous = self._last
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last = mine

        async def wait_turn() -> None:
            if previous is not None:
                await asyncio.shield(previous)

        try:
            yield wait_turn
        finally:
            # A command that fails or is cancelled before its turn must not let the next one
            # overtake the commands before it: its place is free only once theirs are.
            if previous is None or previous.done():
                mine.set_result(None)
            else:
                previous.add_done_callback(lambda _: mine.set_result(None))


def register(sidecar: Sidecar) -> None:
    """Add the task commands; they act on ``sidecar.host``, whichever it is at the time."""
    order = ArrivalOrder()
    for operation in OPERATIONS:
        sidecar.commands.add(operation.command, _handler(sidecar, operation, order))


def _handler(sidecar: Sidecar, operation: Operation, order: ArrivalOrder) -> Handler:
    async def handle(arguments: Sequence[Any]) -> dict[str, Any]:
        async with order.place() as wait_turn:
            request = await operation.validate(arguments)
            await wait_turn()
            logger.debug("%s -> %s host", operation.command, sidecar.host.name)
            reply = operation.submit(sidecar.host, request)
        return await reply

    return handle
