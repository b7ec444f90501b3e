"""The ACP host: Cline's four operations carried out by the real Cline agent (``cline --acp``).

For editors without the Cline extension. One agent per sidecar, started on the first task command
and restarted on the next command after it dies; one task (one ACP session) at a time, as in
Cline's panel. The operations follow Cline's own semantics as far as ACP allows (clineapi.md):

- ``startNewTask`` drops the current task (cancelling its turn) and opens a new session;
- ``sendMessage`` prompts the session, or queues the message while a turn runs;
- the primary button approves the open permission request, or resumes an idle task;
- the secondary button rejects the open permission request, or cancels the running turn.

Unlike the write-only ClineAPI, everything the agent does is reported as ``clineBridge/taskEvent``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from cline_bridge import __version__
from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.acp.connection import AgentConnection, AgentError, AgentExited
from cline_bridge.sidecar.hosts.acp.launch import AgentLaunch
from cline_bridge.sidecar.hosts.acp.prompts import PromptBuilder
from cline_bridge.sidecar.hosts.acp.task import NO_TASK, RESUME_TEXT, Ask, Task
from cline_bridge.sidecar.hosts.acp.updates import apply_session_update
from cline_bridge.sidecar.hosts.acp.usage import turn_usage
from cline_bridge.sidecar.hosts.base import Reply, TaskHost
from cline_bridge.sidecar.task_events import EventStream, Publish
from cline_bridge.sidecar.tool_calls import readable_title, title_tool
from cline_bridge.wire.errors import ClineUnavailableError

logger = logging.getLogger(__name__)

ACP_PROTOCOL_VERSION = 1
# The agent's first start reads a 150 MB binary and takes 1-3 s; a loaded machine takes longer.
START_TIMEOUT = 60.0
SESSION_TIMEOUT = 30.0
METHOD_NOT_FOUND = -32601

NO_TASK_MESSAGE = "No Cline task to send the message to; start one with clineBridge.startNewTask"
SHUTTING_DOWN = "The sidecar is shutting down"
SIGN_IN_HINT = (
    " Sign in with `cline auth`, or set CLINE_API_KEY in the environment the sidecar starts in"
    " (or in initializationOptions.acp.env)."
)


class AcpHost(TaskHost):
    name = "acp"

    def __init__(self, launch: AgentLaunch, publish: Publish) -> None:
        self._launch = launch
        self._data_dir = launch.data_dir()
        """Where the agent records its sessions, and with them each task's usage."""
        self.events = EventStream(publish)
        self._agent: AgentConnection | None = None
        self._task: Task | None = None
        self._loading: Task | None = None
        """A task whose session the agent is replaying; its replayed updates are not news."""
        self._serial = asyncio.Lock()
        self._prompts = PromptBuilder()
        self._closed = False

    def describe(self) -> dict[str, Any]:
        agent = self._agent if self._agent is not None and self._agent.alive else None
        task = self._task
        return {
            "command": self._launch.describe(),
            "cwd": self._launch.cwd,
            "agentPid": agent.pid if agent is not None else None,
            "taskId": task.session_id if task is not None else None,
            "state": task.state if task is not None else NO_TASK,
        }

    # -- the four operations ---------------------------------------------------------------------

    def start_new_task(self, task: TextAndImages) -> Reply:
        return self._submit(self._start_new_task(task))

    def send_message(self, message: TextAndImages) -> Reply:
        return self._submit(self._send_message(message))

    def press_primary_button(self, force: bool = False) -> Reply:
        return self._submit(self._press_primary_button(force))

    def press_secondary_button(self, force: bool = False) -> Reply:
        return self._submit(self._press_secondary_button(force))

    def answer_ask(self, ask_id: str, allow: bool, source: str) -> bool:
        """Answer an open approval (from a dialog); False if it was answered already."""
        task = self._task
        ask = task.asks.get(ask_id) if task is not None else None
        if task is None or ask is None:
            return False
        self._answer(task, ask, allow, source)
        return True

    async def close(self) -> None:
        # Not behind the operations' lock: an operation waiting on the agent (a start takes up
        # to START_TIMEOUT) fails at once when the agent closes, rather than delaying shutdown.
        self._closed = True
        task, self._task = self._task, None
        if task is not None and task.turn is not None:
            task.turn.cancel()
        agent, self._agent = self._agent, None
        if agent is not None:
            await agent.close()
        self._prompts.close()

    # -- operations, one at a time in the order they were submitted ----------------------------

    def _submit(self, operation: Coroutine[Any, Any, dict[str, Any]]) -> Reply:
        # A task of its own, created now: operations take the lock in submission order even
        # though the caller awaits the reply later, and one finishes even if its caller gives up.
        return asyncio.ensure_future(self._one_at_a_time(operation))

    async def _one_at_a_time(
        self, operation: Coroutine[Any, Any, dict[str, Any]]
    ) -> dict[str, Any]:
        async with self._serial:
            if self._closed:
                operation.close()
                raise ClineUnavailableError(SHUTTING_DOWN)
            return await operation

    async def _start_new_task(self, request: TextAndImages) -> dict[str, Any]:
        self._drop_task()
        agent = await self._running_agent()
        session = await self._call(
            agent,
            "session/new",
            {"cwd": self._launch.cwd, "mcpServers": []},
            doing="start a session",
        )
        session_id = session.get("sessionId") if isinstance(session, dict) else None
        if not isinstance(session_id, str):
            raise ClineUnavailableError("The Cline agent answered session/new without a sessionId")
        task = self._task = Task(session_id)
        logger.info("task %s started", session_id)
        self.events.emit(task, "started", text=request.text, images=len(request.images))
        if request.text is not None or request.images:
            self._begin_turn(task, request)
        return self._result(task, "started")

    async def _send_message(self, message: TextAndImages) -> dict[str, Any]:
        task = self._task
        if task is None:
            raise ClineUnavailableError(NO_TASK_MESSAGE)
        if task.running:
            task.queue.append(message)
            self.events.emit(task, "queued", text=message.text, images=len(message.images))
            return self._result(task, "queued")
        if task.failed:
            await self._reload(task)
        task.queue.append(message)
        queued = task.take_queue()
        assert queued is not None
        if queued.text is None and not queued.images:
            queued = TextAndImages(RESUME_TEXT, ())  # what Cline sends for an empty message
        self._begin_turn(task, queued)
        return self._result(task, "sent")

    async def _press_primary_button(self, force: bool) -> dict[str, Any]:
        task = self._task
        if task is None:
            return self._no_task()
        if task.asks:
            ask = next(iter(task.asks.values()))
            self._answer(task, ask, allow=True, source="button")
            return self._result(task, "approved", ask)
        if task.running or not (force or task.failed):
            # Nothing waits for an answer: resuming would spend a model turn nobody asked for.
            # A failed task waits for "Retry", the primary button (its error event says so).
            return self._result(task, "none")
        return await self._resume(task)

    async def _press_secondary_button(self, force: bool) -> dict[str, Any]:
        task = self._task
        if task is None:
            return self._no_task()
        if task.asks:
            ask = next(iter(task.asks.values()))
            self._answer(task, ask, allow=False, source="button")
            return self._result(task, "rejected", ask)
        if task.running:
            self._cancel_turn(task)
            return self._result(task, "cancelled")
        if force:  # as in Cline's panel, a button with nothing waiting goes on with the task
            return await self._resume(task)
        return self._result(task, "none")

    async def _resume(self, task: Task) -> dict[str, Any]:
        if task.failed:
            await self._reload(task)
        self._begin_turn(task, task.take_queue() or TextAndImages(RESUME_TEXT, ()))
        return self._result(task, "resumed")

    def _result(self, task: Task, action: str, ask: Ask | None = None) -> dict[str, Any]:
        result = {"host": self.name, "taskId": task.session_id, "state": task.state}
        result["action"] = action
        if ask is not None:  # what was answered, for the caller to say
            described = ask.tool_call.describe()
            for key in ("toolCallId", "title", "toolKind", "input"):
                result[key] = described[key]
        return result

    def _no_task(self) -> dict[str, Any]:
        return {"host": self.name, "taskId": None, "state": NO_TASK, "action": "none"}

    # -- the agent ------------------------------------------------------------------------------

    async def _running_agent(self) -> AgentConnection:
        if self._closed:
            raise ClineUnavailableError(SHUTTING_DOWN)
        if self._agent is not None and self._agent.alive:
            return self._agent
        try:
            agent = await AgentConnection.start(
                self._launch, self._on_agent_request, self._on_agent_notification, self._on_exit
            )
        except AgentExited as error:
            raise ClineUnavailableError(str(error)) from None
        if self._is_closed():  # shut down while it started
            await agent.close()
            raise ClineUnavailableError(SHUTTING_DOWN)
        self._agent = agent
        try:
            await self._call(
                agent,
                "initialize",
                {
                    "protocolVersion": ACP_PROTOCOL_VERSION,
                    "clientCapabilities": {},
                    "clientInfo": {"name": "cline-bridge", "version": __version__},
                },
                doing="start in ACP mode",
                timeout=START_TIMEOUT,
            )
        except ClineUnavailableError:
            self._agent = None
            await agent.close()
            raise
        return agent

    def _is_closed(self) -> bool:
        # A method, not the attribute: the type checker would take it as unchanged across await.
        return self._closed

    async def _call(
        self,
        agent: AgentConnection,
        method: str,
        params: dict[str, Any],
        *,
        doing: str,
        timeout: float = SESSION_TIMEOUT,
    ) -> Any:
        """A request to the agent whose failure becomes a -32002 saying what could not be done."""
        try:
            return await agent.request(method, params, timeout)
        except AgentError as error:
            hint = SIGN_IN_HINT if "authenticat" in error.message.lower() else ""
            raise ClineUnavailableError(
                f"The Cline agent could not {doing}: {error.message}.{hint}",
                data={"method": method, "code": error.code},
            ) from None
        except AgentExited as error:
            raise ClineUnavailableError(f"The Cline agent could not {doing}: {error}") from None

    async def _reload(self, task: Task) -> None:
        """Continue a task whose agent died: a new agent loads the session from Cline's history."""
        agent = await self._running_agent()
        self._loading = task
        try:
            await self._call(
                agent,
                "session/load",
                {"sessionId": task.session_id, "cwd": self._launch.cwd, "mcpServers": []},
                doing=f"reload task {task.session_id} (start a new task instead)",
                timeout=START_TIMEOUT,
            )
        finally:
            self._loading = None
        task.failed = False
        logger.info("task %s reloaded in agent pid %d", task.session_id, agent.pid)

    def _on_agent_request(self, request_id: Any, method: str, params: Any) -> None:
        agent = self._agent
        if agent is None:
            return
        task = self._task
        if method != "session/request_permission":
            agent.respond_error(request_id, METHOD_NOT_FOUND, f"Method not found: {method}")
            return
        tool_call = params.get("toolCall") if isinstance(params, dict) else None
        if (
            task is None
            or params.get("sessionId") != task.session_id
            or not isinstance(tool_call, dict)
            or not isinstance(tool_call.get("toolCallId"), str)
        ):
            agent.respond(request_id, {"outcome": {"outcome": "cancelled"}})
            return
        record = task.tool_call(tool_call["toolCallId"])
        record.merge(tool_call)
        options = [option for option in params.get("options") or [] if isinstance(option, dict)]
        ask = Ask(request_id, record, options)
        task.asks[ask.ask_id] = ask
        self.events.emit(
            task,
            "approval",
            askId=ask.ask_id,
            toolCallId=record.tool_call_id,
            tool=title_tool(record.title),
            title=readable_title(record.title, record.input),
            toolKind=record.kind,
            input=record.input,
            options=[option.get("optionId") for option in options],
        )

    def _on_agent_notification(self, method: str, params: Any) -> None:
        task = self._task
        if (
            method != "session/update"
            or task is None
            or task is self._loading
            or not isinstance(params, dict)
            or params.get("sessionId") != task.session_id
        ):
            return
        apply_session_update(task, params.get("update"), self.events)

    def _on_exit(self, exited: AgentExited) -> None:
        task = self._task
        if task is None:
            return
        task.failed = True
        task.asks.clear()  # their requests died with the agent
        self.events.emit(
            task,
            "error",
            message=f"{exited}. Send a message or press the primary button to continue the task "
            "in a new agent, or start a new task.",
            code=None,
        )

    # -- turns ----------------------------------------------------------------------------------

    def _begin_turn(self, task: Task, content: TextAndImages) -> None:
        self._announce_turn(task, self._spawn_turn(task, content), content)

    def _announce_turn(self, task: Task, number: int, content: TextAndImages) -> None:
        self.events.emit(
            task, "turnStart", turn=number, text=content.text, images=len(content.images)
        )

    def _spawn_turn(self, task: Task, content: TextAndImages) -> int:
        task.turns += 1
        task.turn = asyncio.ensure_future(self._run_turn(task, content, task.turns))
        return task.turns

    async def _run_turn(self, task: Task, content: TextAndImages, number: int) -> None:
        agent = self._agent
        if agent is None:
            return
        prompt = {"sessionId": task.session_id, "prompt": self._prompts.blocks(content)}
        try:
            result = await agent.request("session/prompt", prompt, None)
            stop_reason = result.get("stopReason") if isinstance(result, dict) else None
        except AgentExited:
            return  # _on_exit has reported it
        except AgentError as error:
            if task is self._task:
                self.events.emit(
                    task,
                    "error",
                    message=f"The Cline agent failed the turn: {error.message}",
                    code=error.code,
                )
            stop_reason = "error"
        # Cline sends no usage over ACP; it has recorded it by the time it answers the prompt.
        usage = await turn_usage(self._data_dir, task.session_id) if task is self._task else None
        if task is not self._task:
            return  # replaced by a new task (perhaps during that read): it reports nothing more
        for ask in list(task.asks.values()):  # the agent should leave none open; make sure
            self._answer(task, ask, allow=None, source="cancel")
        task.turn = None
        # Messages sent during a turn follow it, unless the user cancelled it: then they wait
        # for the next message or the primary button.
        follow_up = task.take_queue() if stop_reason != "cancelled" else None
        next_turn = self._spawn_turn(task, follow_up) if follow_up is not None else None
        self.events.emit(
            task,
            "turnEnd",
            turn=number,
            stopReason=stop_reason or "end_turn",
            queued=len(task.queue),
            usage=usage,
        )
        if next_turn is not None and follow_up is not None:
            self._announce_turn(task, next_turn, follow_up)

    def _cancel_turn(self, task: Task) -> None:
        """Cancel the running turn; open approvals are answered ``cancelled``, as ACP requires."""
        agent = self._agent
        if agent is not None and agent.alive:
            agent.notify("session/cancel", {"sessionId": task.session_id})
        for ask in list(task.asks.values()):
            self._answer(task, ask, allow=None, source="cancel")

    def _drop_task(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self.events.drop(task)
        if task.running and not task.failed:
            self._cancel_turn(task)
        logger.info("task %s dropped for a new one", task.session_id)

    def _answer(self, task: Task, ask: Ask, allow: bool | None, source: str) -> None:
        """Answer ``ask`` once: allowed, rejected, or (``allow=None``) cancelled."""
        task.asks.pop(ask.ask_id, None)
        option = None
        if allow is not None:
            kinds = ("allow_once", "allow_always") if allow else ("reject_once", "reject_always")
            option = ask.option_id(*kinds)
        outcome = (
            {"outcome": "selected", "optionId": option}
            if option is not None
            else {"outcome": "cancelled"}
        )
        agent = self._agent
        if agent is not None and agent.alive:
            agent.respond(ask.request_id, {"outcome": outcome})
        if task is self._task:
            self.events.emit(
                task,
                "approvalResolved",
                askId=ask.ask_id,
                toolCallId=ask.tool_call.tool_call_id,
                outcome="cancelled" if option is None else ("allowed" if allow else "rejected"),
                source=source,
            )
