"""What an LSP editor shows of an ACP task besides the events: progress and approval dialogs.

- ``$/progress`` per turn, for a client that declared ``window.workDoneProgress``: begins when a
  turn starts, reports the agent's latest words or tool call, ends with the turn.
- ``window/showMessageRequest`` with "Approve" / "Reject" for each approval, for a client that
  declared ``window.showMessage``. The first answer wins: the dialog's, or a button command's,
  after which the dialog is withdrawn with ``$/cancelRequest``. A dismissed dialog (a ``null``
  answer) leaves the approval open for the buttons.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)

APPROVE, REJECT = "Approve", "Reject"
PROGRESS_TITLE = "Cline"
REPORT_LENGTH = 80
"""Characters of agent text shown in a progress report (editors show one short line)."""

AnswerAsk = Callable[[str, bool, str], bool]
"""``host.answer_ask(ask_id, allow, source)``: False if the approval was answered already."""


class EditorFeedback:
    """Follows the task events and shows them in the editor as its capabilities allow."""

    def __init__(
        self,
        connection: LanguageServerProtocol,
        capabilities: types.ClientCapabilities,
        answer_ask: AnswerAsk,
    ) -> None:
        window = capabilities.window
        self._connection = connection
        self._answer_ask = answer_ask
        self._progress = bool(window and window.work_done_progress)
        self._dialogs = bool(window and window.show_message)
        self._turn_tokens: dict[str, asyncio.Future[str | None]] = {}
        """Per task, the progress token of its running turn (once the editor created it)."""
        self._open_dialogs: dict[str, asyncio.Task[None]] = {}
        """Per approval, the dialog still waiting for the editor's answer."""
        self._background: set[asyncio.Task[None]] = set()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if self._progress:
            self._follow_progress(event, kind)
        if self._dialogs:
            if kind == "approval":
                ask_id = str(event.get("askId"))
                self._open_dialogs[ask_id] = self._spawn(self._ask(ask_id, event))
            elif kind == "approvalResolved":
                self._withdraw(str(event.get("askId")))

    # -- progress -------------------------------------------------------------------------------

    def _follow_progress(self, event: dict[str, Any], kind: Any) -> None:
        task_id = str(event.get("taskId"))
        if kind == "turnStart":
            created: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            self._turn_tokens[task_id] = created
            self._spawn(self._begin(created, f"cline-bridge/{task_id}/turn-{event.get('turn')}"))
            return
        token = self._turn_tokens.get(task_id)
        if token is None:
            return
        if kind == "turnEnd":
            del self._turn_tokens[task_id]
            end = types.WorkDoneProgressEnd(message=f"Cline: {event.get('stopReason')}")
            self._when_ready(token, lambda name: self._connection.progress.end(name, end))
        elif (message := _report_line(event, kind)) is not None:
            report = types.WorkDoneProgressReport(message=message)
            self._when_ready(token, lambda name: self._connection.progress.report(name, report))

    async def _begin(self, token: asyncio.Future[str | None], name: str) -> None:
        try:
            await self._connection.progress.create_async(name)
        except Exception as error:  # the editor refused: this turn goes without progress
            logger.debug("no progress for this turn: %s", error)
            token.set_result(None)
            return
        self._connection.progress.begin(name, types.WorkDoneProgressBegin(title=PROGRESS_TITLE))
        token.set_result(name)

    @staticmethod
    def _when_ready(token: asyncio.Future[str | None], send: Callable[[str], None]) -> None:
        def sent(done: asyncio.Future[str | None]) -> None:
            if (name := done.result()) is not None:
                send(name)

        if token.done():
            sent(token)
        else:
            # Callbacks run in the order they were added: reports keep their order after begin.
            token.add_done_callback(sent)

    # -- approval dialogs ------------------------------------------------------------------------

    async def _ask(self, ask_id: str, event: dict[str, Any]) -> None:
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"Cline wants to use {event.get('title') or 'a tool'}",
            actions=[types.MessageActionItem(APPROVE), types.MessageActionItem(REJECT)],
        )
        try:
            answer = await self._connection.send_request_async(
                types.WINDOW_SHOW_MESSAGE_REQUEST, params, msg_id=_dialog_id(ask_id)
            )
        except Exception as error:  # withdrawn, or the editor failed it: the buttons remain
            logger.debug("approval dialog %s closed without an answer: %s", ask_id, error)
            return
        finally:
            self._open_dialogs.pop(ask_id, None)
        title = getattr(answer, "title", None)
        if title in (APPROVE, REJECT):
            self._answer_ask(ask_id, title == APPROVE, "dialog")

    def _withdraw(self, ask_id: str) -> None:
        dialog = self._open_dialogs.pop(ask_id, None)
        if dialog is not None and not dialog.done():
            self._connection.notify(types.CANCEL_REQUEST, types.CancelParams(id=_dialog_id(ask_id)))
            dialog.cancel()  # an editor may never answer a cancelled request

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


def _dialog_id(ask_id: str) -> str:
    return f"cline-bridge/approval/{ask_id}"


def _report_line(event: dict[str, Any], kind: Any) -> str | None:
    """The progress message for an event: the agent's last line of text, or the tool call."""
    if kind == "message":
        lines = [line for line in str(event.get("text", "")).splitlines() if line.strip()]
        return lines[-1][:REPORT_LENGTH] if lines else None
    if kind == "toolCall":
        return f"{event.get('title') or event.get('toolKind')} ({event.get('status')})"[
            :REPORT_LENGTH
        ]
    if kind == "approval":
        return f"waiting for approval: {event.get('title')}"[:REPORT_LENGTH]
    return None
