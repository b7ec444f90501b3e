"""Errors of the REST client: one small hierarchy keyed by HTTP status, and the factories that
read every body shape the Cline API is known to send (cline-rest-api.md §7).

Every error has a one-line human ``message``; ``status``, ``code`` and ``request_id`` say what
support needs; ``retryable`` says whether trying again later can help. None of them ever holds
the API key: it is only in the request headers, which no error keeps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_LENGTH = 300


class ClineAPIError(Exception):
    """Anything that went wrong talking to the Cline API."""

    status: int | None = None
    retryable: bool = False
    retry_after: float | None = None
    """Seconds the API asks to wait before a retry, when it says (in a header or the message)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.request_id = request_id
        if retryable is not None:
            self.retryable = retryable
        self.body = body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )


class MissingAPIKeyError(ClineAPIError):
    """No key: nothing was sent."""


class APIConnectionError(ClineAPIError):
    retryable = True


class APITimeoutError(APIConnectionError):
    pass


class APIStatusError(ClineAPIError):
    """The API answered with an error status."""


class BadRequestError(APIStatusError):
    status = 400


class AuthenticationError(APIStatusError):
    status = 401


class InsufficientCreditsError(APIStatusError):
    status = 402


class PermissionDeniedError(APIStatusError):
    status = 403


class NotFoundError(APIStatusError):
    status = 404


class RateLimitError(APIStatusError):
    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    retryable = True


class StreamError(ClineAPIError):
    """The API reported an error in the middle of a stream (the HTTP status was 200)."""


class IncompleteStreamError(StreamError):
    """The stream ended without its final chunk: the answer may be cut short."""

    retryable = True


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
_HINTS = {
    401: "check the Cline API key",
    402: "add credits at app.cline.bot",
    403: "the key has no access to this",
    404: "check the model id and the API base URL",
}
# Quotas and budgets: trying again within seconds cannot help.
_QUOTA_CODES = frozenset({"SPEND_LIMIT_EXCEEDED", "INFERENCE_CAP_ERROR", "insufficient_credits"})
# Mid-stream error codes that a later attempt can cure.
_TRANSIENT_STREAM_CODES = frozenset(
    {"rate_limit", "server_error", "429", "500", "502", "503", "504"}
)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    retry_after: float | None = None,
) -> APIStatusError:
    """The error for an HTTP error response, whatever shape its body has."""
    request_id = headers.get("x-request-id") or headers.get("request-id")
    parsed = _parse_json(body)
    code, detail = _code_and_message(parsed)
    if detail is None:
        text = _first_line(body.decode("utf-8", "replace"))
        # An HTML error page from a proxy says nothing useful in its first line.
        detail = text if text and not text.startswith("<") else f"HTTP {status}"
    cls = _STATUS_CLASSES.get(status) or (
        InternalServerError if status >= 500 or status == 408 else APIStatusError
    )
    message = f"Cline API error {status}"
    if code:
        message += f" ({code})"
    message += f": {detail.rstrip('.')}"
    if hint := _HINTS.get(status):
        message += f"; {hint}"
    if resets_at := _resets_at(parsed):
        message += f"; resets at {resets_at}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": request_id,
        "body": parsed if parsed is not None else body[:MAX_MESSAGE_LENGTH],
    }
    if cls is APIStatusError or code in _QUOTA_CODES:
        kwargs["retryable"] = False
    if cls is RateLimitError:
        return RateLimitError(_shorten(message), retry_after=retry_after, **kwargs)
    return cls(_shorten(message), **kwargs)


def error_from_chunk(chunk: Mapping[str, Any]) -> StreamError | None:
    """The in-band error a stream chunk carries, in either known form, or None."""
    top = chunk.get("error")
    if top is not None:
        code, detail = _code_and_message({"error": top})
        return _stream_error(code, detail, chunk)
    for choice in chunk.get("choices") or ():
        if isinstance(choice, Mapping) and choice.get("finish_reason") == "error":
            code, detail = _code_and_message({"error": choice.get("error")})
            return _stream_error(code, detail, chunk)
    return None


def _stream_error(code: str | None, detail: str | None, chunk: Any) -> StreamError:
    message = "Cline API error mid-stream"
    if code:
        message += f" ({code})"
    message += f": {detail or 'no details given'}"
    return StreamError(
        _shorten(message), code=code, retryable=code in _TRANSIENT_STREAM_CODES, body=chunk
    )


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _code_and_message(parsed: Any) -> tuple[str | None, str | None]:
    """Read ``error`` as an object, a plain string or a JSON-encoded string; unwrap envelopes."""
    if not isinstance(parsed, Mapping):
        return None, None
    error = parsed.get("error", parsed.get("message"))
    if isinstance(error, str):
        inner = _parse_json(error.encode())
        if isinstance(inner, Mapping):
            error = inner
        else:
            return None, _first_line(error)
    if isinstance(error, Mapping):
        code = error.get("code", error.get("type"))
        message = error.get("message")
        return (
            str(code) if code is not None else None,
            _first_line(message) if isinstance(message, str) else None,
        )
    return None, None


def _resets_at(parsed: Any) -> str | None:
    """When a spend limit resets, if the body says (``error.resets_at``)."""
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    value = error.get("resets_at") if isinstance(error, Mapping) else None
    return value if isinstance(value, str) else None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 1] + "…"
