"""The REST commands: ``clineBridge.chat`` (streamed as progress) and ``clineBridge.listModels``.

The REST client is imported on first use, so that an editor that never chats does not pay for
httpx and pydantic at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from cline_bridge.redaction import redact
from cline_bridge.sidecar.request_context import ProgressSink, current_request
from cline_bridge.sidecar.settings import type_name
from cline_bridge.wire import names
from cline_bridge.wire.chat import chat_result
from cline_bridge.wire.errors import (
    ApiError,
    InvalidArgumentsError,
    NoApiKeyError,
    RequestCancelledError,
)

if TYPE_CHECKING:
    from cline_bridge.api.errors import ClineAPIError
    from cline_bridge.sidecar.features import Sidecar

logger = logging.getLogger(__name__)
T = TypeVar("T")

REPORT_INTERVAL = 0.02
"""Seconds between two progress reports: text arriving faster is sent together."""
_CHAT_KEYS = ("prompt", "messages", "model", "system", "temperature", "maxTokens", "tools")


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None


def parse_chat_arguments(arguments: Sequence[Any], default_model: str) -> ChatRequest:
    """Validate ``[{"prompt"?, "messages"?, "model"?, "system"?, ...}]`` (-32602 otherwise)."""
    command = names.CMD_CHAT
    if len(arguments) == 1 and isinstance(arguments[0], str):
        options: Mapping[str, Any] = {"prompt": arguments[0]}
    elif len(arguments) == 1 and isinstance(arguments[0], Mapping):
        options = arguments[0]
    else:
        raise InvalidArgumentsError(f"{command} takes one object [{{'prompt'?, 'messages'?, ...}}]")
    if unknown := sorted(set(options) - set(_CHAT_KEYS)):
        raise InvalidArgumentsError(
            f"{command}: unknown key {unknown[0]!r} (expected {', '.join(_CHAT_KEYS)})"
        )

    def check(key: str, ok: bool, expected: str) -> None:
        if options.get(key) is not None and not ok:
            raise InvalidArgumentsError(
                f"{command}: {key} must be {expected}, not {type_name(options[key])}"
            )

    prompt, messages, tools = options.get("prompt"), options.get("messages"), options.get("tools")
    check("prompt", isinstance(prompt, str), "a string")
    check("system", isinstance(options.get("system"), str), "a string")
    check("model", isinstance(options.get("model"), str) and bool(options["model"]), "a model id")
    check(
        "messages",
        isinstance(messages, list) and all(_is_message(m) for m in messages),
        "an array of messages with a role",
    )
    check(
        "tools",
        isinstance(tools, list) and all(isinstance(t, Mapping) for t in tools),
        "an array of objects",
    )
    temperature: Any = options.get("temperature")
    check("temperature", _is_number(temperature) and 0 <= temperature <= 2, "a number from 0 to 2")
    max_tokens: Any = options.get("maxTokens")
    check(
        "maxTokens",
        isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0,
        "a positive integer",
    )
    if not prompt and not messages:
        raise InvalidArgumentsError(f"{command}: give a prompt or messages")

    conversation: list[dict[str, Any]] = []
    if system := options.get("system"):
        conversation.append({"role": "system", "content": system})
    conversation.extend(dict(message) for message in messages or ())
    if prompt:
        conversation.append({"role": "user", "content": prompt})
    return ChatRequest(
        model=options.get("model") or default_model,
        messages=conversation,
        temperature=temperature,
        max_tokens=max_tokens,
        tools=[dict(tool) for tool in tools] if tools else None,
    )


def _is_message(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("role"), str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ProgressReporter:
    """Streams text as ``$/progress`` reports on the request's token, at most one per interval.

    Each report's ``message`` is the text added since the previous one, so the reports joined
    are exactly the answer.
    """

    def __init__(self, progress: ProgressSink, token: types.ProgressToken) -> None:
        self._progress = progress
        self._token = token
        self._pending: list[str] = []
        self._last_sent = 0.0
        self._timer: asyncio.TimerHandle | None = None
        progress.begin(token, types.WorkDoneProgressBegin(title="Cline chat", cancellable=True))

    def add(self, text: str) -> None:
        self._pending.append(text)
        if self._timer is not None:
            return
        wait = self._last_sent + REPORT_INTERVAL - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            message, self._pending = "".join(self._pending), []
            self._progress.report(self._token, types.WorkDoneProgressReport(message=message))
            self._last_sent = time.monotonic()

    def end(self) -> None:
        self.flush()
        self._progress.end(self._token, types.WorkDoneProgressEnd())


def register(sidecar: Sidecar) -> None:
    """Add ``clineBridge.chat`` and ``clineBridge.listModels``."""

    async def chat_command(arguments: Sequence[Any]) -> dict[str, Any]:
        return await chat(sidecar, arguments)

    async def list_models_command(arguments: Sequence[Any]) -> dict[str, Any]:
        return await list_models(sidecar)

    sidecar.commands.add(names.CMD_CHAT, chat_command)
    sidecar.commands.add(names.CMD_LIST_MODELS, list_models_command)


async def chat(sidecar: Sidecar, arguments: Sequence[Any]) -> dict[str, Any]:
    """Run ``clineBridge.chat``: stream the answer as progress, return it whole."""
    from cline_bridge.api.events import TextDelta

    request = parse_chat_arguments(arguments, sidecar.settings.model)
    client = sidecar.rest_client()
    request_context = current_request()
    token = request_context.work_done_token
    reporter = ProgressReporter(request_context.progress, token) if token is not None else None

    async def answer() -> dict[str, Any]:
        async with client.stream_chat(
            model=request.model,
            messages=request.messages,
            tools=request.tools,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
        ) as stream:
            async for event in stream:
                if reporter is not None and type(event) is TextDelta:
                    reporter.add(event.text)
        assert stream.result is not None
        return chat_result(stream.result.model_dump())

    try:
        return await _until_cancelled(answer(), request_context.cancelled)
    finally:
        if reporter is not None:
            reporter.end()


async def list_models(sidecar: Sidecar) -> dict[str, Any]:
    client = sidecar.rest_client()

    async def models() -> dict[str, Any]:
        return {"models": [model.model_dump() for model in await client.list_models()]}

    return await _until_cancelled(models(), current_request().cancelled)


async def _until_cancelled(work: Coroutine[Any, Any, T], cancelled: asyncio.Event) -> T:
    """Run ``work`` until it ends or ``cancelled`` is set; map REST failures to -32003/-32004.

    The work runs in a task of its own, so that cancelling it never cancels the command's task,
    which pygls expects to end with a result or an error.
    """
    from cline_bridge.api.errors import ClineAPIError, MissingAPIKeyError

    task = asyncio.ensure_future(work)
    cancel_wait = asyncio.ensure_future(cancelled.wait())
    try:
        await asyncio.wait({task, cancel_wait}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel_wait.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        logger.info("cancelled by the client")
        raise RequestCancelledError("cancelled by the client")
    # The errors redact themselves; once more here, since whatever leaves this function is sent
    # to the editor and the control clients, and logged.
    try:
        return task.result()
    except MissingAPIKeyError as error:
        raise NoApiKeyError(redact(error.message)) from None
    except ClineAPIError as error:
        raise ApiError(redact(error.message), _error_data(error)) from None


def _error_data(error: ClineAPIError) -> dict[str, Any]:
    return {
        "status": error.status,
        "code": redact(error.code) if error.code is not None else None,
        "requestId": redact(error.request_id) if error.request_id is not None else None,
        "retryable": error.retryable,
    }
