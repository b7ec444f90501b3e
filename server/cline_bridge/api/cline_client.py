"""``ClineClient``: chat completions and models from the Cline REST API (OpenAI-compatible)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from cline_bridge import __version__
from cline_bridge.api import constants
from cline_bridge.api.bounds import ACCEPTED_ENCODINGS, Budget, TimeBounds, read_body
from cline_bridge.api.errors import (
    APIConnectionError,
    APITimeoutError,
    ClineAPIError,
    InvalidAPIKeyError,
    MissingAPIKeyError,
    error_from_chunk,
    error_from_response,
)
from cline_bridge.api.models import ChatResult, Model, ToolCall, Usage
from cline_bridge.api.retry import backoff, describe_wait, parse_retry_after, should_retry_status
from cline_bridge.api.safe_json import JSONTooDeepError, loads
from cline_bridge.api.stream import ChatStream, json_objects
from cline_bridge.redaction import Secret, api_key_from

logger = logging.getLogger(__name__)
T = TypeVar("T")

RetryListener = Callable[[ClineAPIError, int, int, float], None]
"""Told of each retry before its wait: the error, the retry's number (from 1), the most retries,
and the seconds it waits. The CLI prints it."""


class ClineClient:
    """An async client of the Cline REST API.

    ``async with ClineClient(api_key=...) as client:`` then ``client.stream_chat(...)`` (typed
    events), ``await client.chat(...)`` (one JSON answer) or ``await client.list_models()``.
    Failures raise ``cline_bridge.api.errors.ClineAPIError`` subclasses; transient ones are
    retried first (``max_retries``), with the server's ``retry-after`` or exponential backoff.

    Time bounds, in seconds (defaults in ``api.constants``): ``connect_timeout`` to connect;
    ``first_byte_timeout`` from the start of a request to its response's headers (not for a
    non-streamed ``chat``, whose answer only comes once the model is done); ``idle_timeout``
    between two data events of a stream (keep-alive comments do not count) or two reads of a
    body; ``deadline`` for a whole call, retries included (None: none). ``timeout``, an
    ``httpx.Timeout``, is the older way to say the same: its ``connect`` and ``read`` stand for
    the connect, first-byte and idle bounds not given on their own.

    The key is stripped of surrounding whitespace; one that an HTTP header cannot carry fails
    each call with ``InvalidAPIKeyError`` before anything is sent.
    """

    def __init__(
        self,
        *,
        api_key: str | Secret | None,
        base_url: str = constants.DEFAULT_BASE_URL,
        max_retries: int = constants.MAX_RETRIES,
        timeout: httpx.Timeout | None = None,
        connect_timeout: float | None = None,
        first_byte_timeout: float | None = None,
        idle_timeout: float | None = None,
        deadline: float | None = constants.DEADLINE,
        app_title: str = constants.APP_TITLE,
        app_url: str | None = None,
        backoff_base: float = constants.BACKOFF_BASE,
        http_client: httpx.AsyncClient | None = None,
        on_retry: RetryListener | None = None,
    ) -> None:
        self._api_key = _usable_key(api_key)
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.bounds = _time_bounds(
            timeout, connect_timeout, first_byte_timeout, idle_timeout, deadline
        )
        self._backoff_base = backoff_base
        self._on_retry = on_retry
        self._headers = {
            "X-Title": app_title,
            "User-Agent": f"cline-bridge/{__version__}",
            # Only what BodyReader can decompress within its bounds.
            "Accept-Encoding": ACCEPTED_ENCODINGS,
        }
        if app_url:
            self._headers["HTTP-Referer"] = app_url
        # Only the connection is bounded by httpx: Budget bounds every other wait, so that
        # keep-alive bytes cannot stretch the wait for data.
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(None, connect=self.bounds.connect)
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key else None
        return f"ClineClient(base_url={self.base_url!r}, api_key={key})"

    async def __aenter__(self) -> ClineClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def stream_chat(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        **extra_body: Any,
    ) -> ChatStream:
        """A streamed completion, to use as ``async with client.stream_chat(...) as stream``."""
        body = _chat_body(model, messages, tools, temperature, max_tokens, extra_body)
        body.update(stream=True, stream_options={"include_usage": True})

        async def open_response(budget: Budget) -> httpx.Response:
            return await self._send("POST", "/chat/completions", body, budget)

        return ChatStream(open_response, self._retry_delay, self.bounds)

    async def chat(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        **extra_body: Any,
    ) -> ChatResult:
        """One completion as a single JSON answer (``"stream": false``)."""
        body = _chat_body(model, messages, tools, temperature, max_tokens, extra_body)
        body["stream"] = False
        payload = await self._with_retries(
            lambda budget: self._json("POST", "/chat/completions", body, budget, first_byte=False)
        )
        return _completion_result(payload)

    async def list_models(self) -> list[Model]:
        """The models the key can use (``GET /models``; an OpenAI list or a bare array)."""
        payload = await self._with_retries(
            lambda budget: self._json("GET", "/models", None, budget)
        )
        entries = payload.get("data") if isinstance(payload, Mapping) else payload
        if not isinstance(entries, list):
            raise ClineAPIError("The Cline API answered /models with something that is not a list")
        # An entry without a string id names no model: skipped, like any odd entry.
        return [
            Model.model_validate(entry)
            for entry in entries
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
        ]

    # -- transport ------------------------------------------------------------------------------

    def _key(self) -> str:
        """The key to send; raises when there is none that can be sent."""
        if self._api_key is None:
            raise MissingAPIKeyError(
                "No Cline API key: set CLINE_API_KEY or the apiKey option "
                "(in VS Code: Cline Bridge: Set API Key)"
            )
        if self._api_key.problem is not None:
            raise InvalidAPIKeyError(self._api_key.problem)
        return self._api_key.reveal()

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None) -> httpx.Request:
        headers = {**self._headers, "Authorization": f"Bearer {self._key()}"}
        try:
            return self._http.build_request(
                method, self.base_url + path, json=body, headers=headers
            )
        except UnicodeEncodeError:
            raise ClineAPIError(
                "The request to the Cline API cannot be built: a header holds a character "
                "that is not ASCII (app_title or app_url)",
                retryable=False,
            ) from None

    async def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        budget: Budget,
        *,
        first_byte: bool = True,
    ) -> httpx.Response:
        """Send one request; return the response, still to be read, if its status is 2xx,
        else raise its error. The headers must come within the first-byte bound (``first_byte``)
        or, in any case, the deadline."""
        request = self._request(method, path, body)
        first_byte_timeout = self.bounds.first_byte
        until = budget.now() + first_byte_timeout if first_byte else math.inf
        slow = (
            f"The Cline API did not answer within {describe_wait(first_byte_timeout)} "
            f"({method} {path})"
        )
        try:
            response = await budget.wait(self._http.send(request, stream=True), until, slow)
        except httpx.ConnectTimeout:
            raise APITimeoutError(
                f"The Cline API at {self.base_url} did not accept a connection within "
                f"{describe_wait(self.bounds.connect)}",
                retryable=True,
            ) from None
        except httpx.TimeoutException:  # the bounds of a caller's own http_client
            raise APITimeoutError(
                f"The Cline API did not answer in time ({method} {path})"
            ) from None
        except httpx.LocalProtocolError as error:  # nothing went out: sending again cannot help
            raise ClineAPIError(
                f"The request to the Cline API could not be sent: {_describe(error)}",
                retryable=False,
            ) from None
        except httpx.TransportError as error:
            raise APIConnectionError(
                f"Cannot reach the Cline API at {self.base_url}: {_describe(error)}"
            ) from None
        if response.is_success:
            return response
        raise self._status_error(
            response.status_code, response.headers, await _error_body(response, budget)
        )

    async def _json(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        budget: Budget,
        *,
        first_byte: bool = True,
    ) -> Any:
        response = await self._send(method, path, body, budget, first_byte=first_byte)
        request_id = response.headers.get("x-request-id")
        try:
            content = await read_body(
                response, budget, limit=constants.MAX_BODY, what=f"{path} answer", truncate=False
            )
        except httpx.TransportError as error:
            raise APIConnectionError(
                f"Connection to the Cline API lost while reading its {path} answer: "
                f"{type(error).__name__}",
                request_id=request_id,
            ) from None
        finally:
            await response.aclose()
        try:
            payload = loads(content)
        except JSONTooDeepError:
            raise ClineAPIError(
                f"The Cline API answered {path} with JSON nested too deep to read",
                request_id=request_id,
            ) from None
        except ValueError:
            raise ClineAPIError(
                f"The Cline API answered {path} with something that is not JSON",
                request_id=request_id,
            ) from None
        # Some answers come wrapped as {"success": true, "data": {...}}.
        if isinstance(payload, Mapping) and "success" in payload and "data" in payload:
            payload = payload["data"]
        return payload

    def _status_error(self, status: int, headers: httpx.Headers, content: bytes) -> ClineAPIError:
        error = error_from_response(status, headers, content)
        if not should_retry_status(status, headers):
            error.retryable = False
        # Any retryable status may say how long to wait (a 503 during maintenance, say).
        retry_after = error.retry_after = parse_retry_after(headers, error.message)
        if retry_after is not None and retry_after > constants.MAX_RETRY_WAIT:
            # Waiting hours inside an editor command helps nobody: say when, and stop.
            until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() + retry_after))
            error.message += f"; the API asks to wait {describe_wait(retry_after)} (until {until})"
            error.args = (error.message,)
            error.retryable = False
        return error

    def _retry_delay(self, error: ClineAPIError, attempt: int, budget: Budget) -> float | None:
        """Seconds to wait before retry ``attempt`` (0 for the first) after ``error``, or None
        when it must be raised: not retryable, the retries are used up, or the deadline would
        pass before the retry could start."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        delay = (
            error.retry_after
            if error.retry_after is not None
            else backoff(attempt, self._backoff_base)
        )
        if delay >= budget.left():
            logger.info("%s; no retry: the call's deadline comes first", error.message)
            return None
        logger.info(
            "%s; retry %d of %d in %.1fs", error.message, attempt + 1, self.max_retries, delay
        )
        if self._on_retry is not None:
            self._on_retry(error, attempt + 1, self.max_retries, delay)
        return delay

    async def _with_retries(self, call: Callable[[Budget], Awaitable[T]]) -> T:
        budget = Budget(self.bounds)
        attempt = 0
        while True:
            try:
                return await call(budget)
            except ClineAPIError as error:
                if (delay := self._retry_delay(error, attempt, budget)) is None:
                    raise
                attempt += 1
                await asyncio.sleep(delay)


async def _error_body(response: httpx.Response, budget: Budget) -> bytes:
    """The first ``MAX_ERROR_BODY`` bytes of an error response's body (decompressed), then the
    response is closed. A body that cannot be read gives what the status says alone."""
    try:
        return await read_body(
            response, budget, limit=constants.MAX_ERROR_BODY, what="an error body", truncate=True
        )
    except (ClineAPIError, httpx.HTTPError):
        return b""
    finally:
        await response.aclose()


def _usable_key(api_key: str | Secret | None) -> Secret | None:
    """The key as it will be sent (stripped), or None; one that cannot be sent keeps its
    problem, to be raised by each call (``InvalidAPIKeyError``)."""
    if isinstance(api_key, Secret):
        if api_key.problem is not None:
            return api_key
        api_key = api_key.reveal()
    return api_key_from(api_key, "api_key")


def _time_bounds(
    timeout: httpx.Timeout | None,
    connect: float | None,
    first_byte: float | None,
    idle: float | None,
    deadline: float | None,
) -> TimeBounds:
    """The client's bounds: each one given, else the older ``timeout``'s, else the default."""
    older_connect = timeout.connect if timeout is not None else None
    older_read = timeout.read if timeout is not None else None
    return TimeBounds(
        connect=_seconds("connect_timeout", connect, older_connect, constants.CONNECT_TIMEOUT),
        first_byte=_seconds(
            "first_byte_timeout", first_byte, older_read, constants.FIRST_BYTE_TIMEOUT
        ),
        idle=_seconds("idle_timeout", idle, older_read, constants.IDLE_TIMEOUT),
        deadline=None if deadline is None else _seconds("deadline", deadline, None, 0.0),
    )


def _seconds(name: str, given: float | None, older: float | None, default: float) -> float:
    value = given if given is not None else older if older is not None else default
    if not (isinstance(value, (int, float)) and 0 < value < math.inf):
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def _chat_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    temperature: float | None,
    max_tokens: int | None,
    extra_body: Mapping[str, Any],
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": list(messages), **extra_body}
    if tools:
        body["tools"] = list(tools)
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def _completion_result(payload: Any) -> ChatResult:
    if not isinstance(payload, Mapping):
        raise ClineAPIError("The Cline API answered with something that is not a completion")
    if "error" in payload and (error := error_from_chunk(payload)) is not None:
        raise error
    choices = json_objects(payload.get("choices"))
    choice = choices[0] if choices else {}
    if choice.get("finish_reason") == "error" and (error := error_from_chunk(payload)) is not None:
        raise error
    message = choice.get("message")
    if not isinstance(message, Mapping):
        message = {"content": message} if isinstance(message, str) else {}
    usage = payload.get("usage")
    return ChatResult(
        id=payload.get("id"),
        model=payload.get("model"),
        text=_text_of(message.get("content")),
        reasoning=message.get("reasoning") or message.get("reasoning_content") or "",
        tool_calls=[
            ToolCall(
                id=call.get("id") or f"call_{index}",
                name=(call.get("function") or {}).get("name") or "",
                arguments=(call.get("function") or {}).get("arguments") or "",
                type=call.get("type") or "function",
            )
            for index, call in enumerate(json_objects(message.get("tool_calls")))
        ],
        finish_reason=choice.get("finish_reason"),
        usage=Usage.from_wire(usage) if isinstance(usage, dict) else None,
    )


def _text_of(content: Any) -> str:
    """Message content is a string, or (rarely, in answers) a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _describe(error: httpx.TransportError) -> str:
    return str(error) or type(error).__name__
