"""The editor host: the editor itself calls Cline's ClineAPI exports, and the sidecar follows
what Cline records of its tasks.

Each operation becomes a server-to-client request (``clineBridge/startNewTask`` ...) to an editor
that said ``clineApi: true`` at initialize. The ClineAPI is write-only and fire-and-forget: its
methods resolve once the action is dispatched. What Cline then does, the host learns from Cline's
own records of the task (``records``, ``tracker``): it sends the task's events, names the task a
``startNewTask`` started, and knows what a button would press. With nothing waiting for an answer
Cline turns either button into a new turn ("[TASK RESUMPTION] ...", which costs a model request),
so then the host presses nothing and answers ``action: "none"``, unless asked to ``force``.

Where the records cannot be read (Cline 3, a record version this bridge does not know, no file
watcher), the host says why (``describe``), sends no events and presses the buttons unguarded:
``action: "pressed"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.base import Reply, TaskHost
from cline_bridge.sidecar.hosts.editor.records import Session
from cline_bridge.sidecar.hosts.editor.tracker import (
    AWAITING_APPROVAL,
    FAILED,
    NO_TASK,
    RUNNING,
    ToolCall,
    TrackedTask,
    Tracker,
)
from cline_bridge.sidecar.hosts.editor.watcher import RecordsWatcher
from cline_bridge.sidecar.task_events import EventStream, Publish
from cline_bridge.wire import names
from cline_bridge.wire.errors import ClineUnavailableError

logger = logging.getLogger(__name__)

NEW_TASK_WAIT = 5.0
"""Seconds ``startNewTask`` waits, once Cline answered, to learn the id of the task it started
(Cline records the task as it starts it: tens of milliseconds, as a rule)."""
READY_WAIT = 3.0
"""Seconds an operation waits, just after start-up, for the records to have been read once (a
few milliseconds, as a rule): a task started before would be taken for an old one."""
APPROVAL_SETTLE = 1.0
"""Seconds an approval must have been open before a button answers it. Cline records "pending"
before it listens for the answer (it first opens the diff and updates its panel: 0.2-0.3 s in
code-server on two cores); a press before that is lost, and worse, Cline queues it as an empty
follow-up message. So a press for a fresh approval waits until it has been open this long."""
FIRST_RECORDING_CLINE = 4
NOT_INSTALLED = "Cline is not installed in this editor"
"""The first major version of Cline whose task records the host reads."""


class EditorHost(TaskHost):
    name = "editor"

    def __init__(
        self,
        connection: LanguageServerProtocol,
        request_timeout: float,
        publish: Publish,
        *,
        data_dir: Path,
        window_pid: int | None,
        cline_version: str | None,
        cline_installed: bool = True,
    ) -> None:
        """``data_dir`` is Cline's data folder, ``window_pid`` the extension host's process (which
        tells this window's tasks from others'), ``cline_version`` what the editor said of the
        installed Cline (None: not said), ``cline_installed`` False if it said Cline is missing
        (then every operation goes to the editor, which says so)."""
        self._connection = connection
        self._request_timeout = request_timeout
        self._data_dir = data_dir
        self._tracker = Tracker(EventStream(publish), window_pid)
        self._unreadable = _unreadable_version(cline_version) if cline_installed else NOT_INSTALLED
        """Why Cline's records cannot be followed (None: they can)."""
        self._names_tasks = cline_version is not None and self._unreadable is None
        """Whether ``startNewTask`` waits to name its task: only for a Cline known to record."""
        self._watcher: RecordsWatcher | None = None
        self._ready = asyncio.Event()

    def start(self) -> None:
        if self._unreadable is not None:
            logger.info("Cline's tasks are not followed: %s", self._unreadable)
            self._ready.set()
            return
        self._watcher = RecordsWatcher(
            self._data_dir / "sessions",
            is_ours=self._tracker.is_ours,
            on_learn=self._learned,
            on_session=self._tracker.update,
            on_unreadable=self._cannot_follow,
        )
        self._watcher.start(asyncio.get_running_loop())
        logger.info("following Cline's tasks in %s", self._data_dir)

    async def close(self) -> None:
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)

    def describe(self) -> dict[str, Any]:
        task = self._following_task()
        return {
            "events": self._unreadable is None,
            "reason": self._unreadable,
            "dataDir": str(self._data_dir),
            "taskId": task.task_id if task is not None else None,
            "state": task.state if task is not None else NO_TASK,
        }

    # -- the four operations ---------------------------------------------------------------------

    def start_new_task(self, task: TextAndImages) -> Reply:
        return self._when_ready(lambda ready: self._start_task(task, names_it=ready))

    def send_message(self, message: TextAndImages) -> Reply:
        return self._when_ready(lambda ready: self._send(message))

    def press_primary_button(self, force: bool = False) -> Reply:
        method = names.REQ_PRESS_PRIMARY_BUTTON
        return self._when_ready(lambda ready: self._press(method, True, force, guarded=ready))

    def press_secondary_button(self, force: bool = False) -> Reply:
        method = names.REQ_PRESS_SECONDARY_BUTTON
        return self._when_ready(lambda ready: self._press(method, False, force, guarded=ready))

    def _when_ready(self, operation: Callable[[bool], Reply]) -> Reply:
        """``operation(ready)`` once the records were read once (or could not be in time:
        ``ready`` False). Operations arrive in order and wait in order (asyncio.Event wakes its
        waiters first come, first served), so none overtakes another."""
        if self._ready.is_set():
            return operation(True)

        async def when_ready() -> dict[str, Any]:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ready.wait(), READY_WAIT)
            if not self._ready.is_set():
                logger.warning("Cline's records were not read within %gs", READY_WAIT)
            return await operation(self._ready.is_set())

        return when_ready()

    def _start_task(self, task: TextAndImages, *, names_it: bool) -> Reply:
        waiter = self._tracker.next_task() if names_it and self._names_tasks else None
        reply = self._forward(names.REQ_START_NEW_TASK, task.as_params("task"))
        return self._started(reply, waiter)

    def _send(self, message: TextAndImages) -> Reply:
        task = self._following_task()
        # Cline queues a message while a turn runs (an open approval stays open).
        busy = task is not None and task.state in (RUNNING, AWAITING_APPROVAL)
        reply = self._forward(names.REQ_SEND_MESSAGE, message.as_params("message"))
        return self._answer(reply, "queued" if busy else "sent", task)

    # -- buttons that know what they press --------------------------------------------------------

    def _press(self, method: str, allow: bool, force: bool, *, guarded: bool) -> Reply:
        """Press ``method``'s button if something waits for it (``allow``: the primary one);
        unguarded where the records cannot tell."""
        if self._unreadable is not None or not guarded:
            return self._answer(self._forward(method, {}), "pressed", None)
        task = self._tracker.current
        if task is not None and task.state == AWAITING_APPROVAL:
            call = task.open_tool
            settling = _settle_left(task)
            self._tracker.pressed(task, allow)  # answered: a second press finds nothing waiting
            reply = self._forward_after(settling, method) if settling else self._forward(method, {})
            return self._answer(reply, "approved" if allow else "rejected", task, call)
        retry = allow and task is not None and task.state == FAILED  # Cline's "Retry"
        if not (force or retry):
            logger.info("%s: nothing waits for an answer; not pressed", method)
            return _now(self._result("none", task, dispatched=False))
        # Cline turns a button with nothing waiting into a new turn; without a task, a no-op.
        reply = self._forward(method, {})
        return self._answer(reply, "resumed" if task is not None else "none", task)

    # -- results --------------------------------------------------------------------------------

    async def _started(
        self, reply: Awaitable[None], waiter: asyncio.Future[TrackedTask] | None
    ) -> dict[str, Any]:
        try:
            await reply
        except BaseException:
            if waiter is not None:
                waiter.cancel()
            raise
        task = None
        if waiter is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                task = await asyncio.wait_for(waiter, NEW_TASK_WAIT)
        return self._result("started", task)

    async def _answer(
        self,
        reply: Awaitable[None],
        action: str,
        task: TrackedTask | None,
        call: ToolCall | None = None,
    ) -> dict[str, Any]:
        await reply
        return self._result(action, task, call=call)

    def _result(
        self,
        action: str,
        task: TrackedTask | None,
        *,
        call: ToolCall | None = None,
        dispatched: bool = True,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"host": self.name, "dispatched": dispatched, "action": action}
        if self._unreadable is None:
            result["taskId"] = task.task_id if task is not None else None
            result["state"] = task.state if task is not None else NO_TASK
        if call is not None:
            described = call.describe()
            result.update({key: described[key] for key in ("toolCallId", "title", "toolKind")})
            result["input"] = described["input"]
        return result

    def _following_task(self) -> TrackedTask | None:
        return self._tracker.current if self._unreadable is None else None

    # -- what the watcher says -----------------------------------------------------------------

    def _learned(self, sessions: Sequence[Session]) -> None:
        self._tracker.learn(sessions)
        self._ready.set()

    def _cannot_follow(self, reason: str) -> None:
        self._unreadable = f"Cline's task records cannot be read: {reason}"
        self._names_tasks = False
        self._ready.set()
        logger.warning("%s; no task events, and the buttons press unguarded", self._unreadable)
        self._tracker.lost(f"{self._unreadable}; the bridge sends no more events")

    # -- the editor -----------------------------------------------------------------------------

    async def _forward_after(self, delay: float, method: str) -> None:
        logger.info("%s: waiting %.2fs for Cline to listen for the answer", method, delay)
        await asyncio.sleep(delay)
        await self._forward(method, {})

    def _forward(self, method: str, params: dict[str, Any]) -> Awaitable[None]:
        """Send the request now; the returned coroutine waits for the editor's answer."""
        request_id = f"{method}:{uuid.uuid4().hex[:12]}"
        reply = self._connection.send_request_async(method, params, msg_id=request_id)
        return self._await_reply(method, request_id, reply)

    async def _await_reply(self, method: str, request_id: str, reply: Awaitable[Any]) -> None:
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


def _unreadable_version(version: str | None) -> str | None:
    """Why a Cline of ``version`` keeps no records the host can read (None: it does, or the
    version is not known, in which case the records are tried)."""
    if version is None:
        return None
    major = version.split(".", 1)[0]
    if major.isdigit() and int(major) < FIRST_RECORDING_CLINE:
        return (
            f"Cline {version} keeps its tasks where the bridge cannot read them; "
            f"Cline {FIRST_RECORDING_CLINE} or later records them in its data folder"
        )
    return None


def _settle_left(task: TrackedTask) -> float:
    """How long a press for ``task``'s open approval must still wait (``APPROVAL_SETTLE``)."""
    if task.asked_at is None:
        return 0.0  # open before the bridge looked: long enough
    return max(0.0, task.asked_at + APPROVAL_SETTLE - time.monotonic())


async def _now(result: dict[str, Any]) -> dict[str, Any]:
    return result
