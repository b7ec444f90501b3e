"""``ClineClient``: chat completions and models from the Cline REST API (OpenAI-compatible)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from cline_bridge import __version__
from cline_bridge.api import constants
from cline_bridge.api.errors import (
    APIConnectionError,
    APITimeoutError,
    ClineAPIError,
    MissingAPIKeyError,
    error_from_chunk,
    error_from_response,
)
from cline_bridge.api.models import ChatResult, Model, ToolCall, Usage
from cline_bridge.api.retry import backoff, describe_wait, parse_retry_after, should_retry_status
from cline_bridge.api.stream import ChatStream, json_objects
from cline_bridge.redaction import Secret

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ClineClient:
    """An async client of the Cline REST API.

    ``async with ClineClient(api_key=...) as client:`` then ``client.stream_chat(...)`` (typed
    events), ``await client.chat(...)`` (one JSON answer) or ``await client.list_models()``.
    Failures raise ``cline_bridge.api.errors.ClineAPIError`` subclasses; transient ones are
    retried first (``max_retries``), with the server's ``retry-after`` or exponential backoff.
    """

    def __init__(
        self,
        *,
        api_key: str | Secret | None,
        base_url: str = constants.DEFAULT_BASE_URL,
        max_retries: int = constants.MAX_RETRIES,
        timeout: httpx.Timeout | None = None,
        app_title: str = constants.APP_TITLE,
        app_url: str | None = None,
        backoff_base: float = constants.BACKOFF_BASE,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._api_key = Secret(api_key) if isinstance(api_key, str) else api_key
        if self._api_key is not None and not self._api_key.reveal():
            self._api_key = None
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._backoff_base = backoff_base
        self._headers = {"X-Title": app_title, "User-Agent": f"cline-bridge/{__version__}"}
        if app_url:
            self._headers["HTTP-Referer"] = app_url
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout
            or httpx.Timeout(constants.READ_TIMEOUT, connect=constants.CONNECT_TIMEOUT)
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

        async def open_response() -> httpx.Response:
            return await self._send("POST", "/chat/completions", body, stream=True)

        return ChatStream(open_response, self._retry_delay)

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
        payload = await self._with_retries(lambda: self._json("POST", "/chat/completions", body))
        return _completion_result(payload)

    async def list_models(self) -> list[Model]:
        """The models the key can use (``GET /models``; an OpenAI list or a bare array)."""
        payload = await self._with_retries(lambda: self._json("GET", "/models", None))
        entries = payload.get("data") if isinstance(payload, Mapping) else payload
        if not isinstance(entries, list):
            raise ClineAPIError("The Cline API answered /models with something that is not a list")
        return [Model.model_validate(entry) for entry in entries if isinstance(entry, Mapping)]

    # -- transport ------------------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None, *, stream: bool
    ) -> httpx.Response:
        """Send one request; return the response if its status is 2xx, else raise its error."""
        if self._api_key is None:
            raise MissingAPIKeyError(
                "No Cline API key: set CLINE_API_KEY or the apiKey option "
                "(in VS Code: Cline Bridge: Set API Key)"
            )
        headers = {**self._headers, "Authorization": f"Bearer {self._api_key.reveal()}"}
        request = self._http.build_request(method, self.base_url + path, json=body, headers=headers)
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.TimeoutException:
            raise APITimeoutError(
                f"The Cline API did not answer in time ({method} {path})"
            ) from None
        except httpx.TransportError as error:
            raise APIConnectionError(
                f"Cannot reach the Cline API at {self.base_url}: {_describe(error)}"
            ) from None
        if response.is_success:
            return response
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        raise self._status_error(response.status_code, response.headers, content)

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        response = await self._send(method, path, body, stream=False)
        try:
            payload = response.json()
        except ValueError:
            raise ClineAPIError(
                f"The Cline API answered {path} with something that is not JSON",
                request_id=response.headers.get("x-request-id"),
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

    def _retry_delay(self, error: ClineAPIError, attempt: int) -> float | None:
        """Seconds to wait before retry ``attempt`` (0 for the first) after ``error``, or None
        when it must be raised: not retryable, or the retries are used up."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        delay = (
            error.retry_after
            if error.retry_after is not None
            else backoff(attempt, self._backoff_base)
        )
        logger.info(
            "%s; retry %d of %d in %.1fs", error.message, attempt + 1, self.max_retries, delay
        )
        return delay

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except ClineAPIError as error:
                if (delay := self._retry_delay(error, attempt)) is None:
                    raise
                attempt += 1
                await asyncio.sleep(delay)


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
