"""Errors of the REST client: one small hierarchy keyed by HTTP status, and the factories that
read every body shape the Cline API is known to send (cline-rest-api.md §7).

Every error has a one-line human ``message``; ``status``, ``code`` and ``request_id`` say what
support needs; ``retryable`` says whether trying again later can help. None of them ever holds
the API key: it is only in the request headers, which no error keeps, and whatever the server
sends back (a 401 body may echo the key) passes through ``redaction.redact`` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cline_bridge.api.safe_json import JSONTooDeepError, loads
from cline_bridge.redaction import redact, redact_json

MAX_MESSAGE_LENGTH = 300
MAX_CODE_LENGTH = 100
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


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
        message = redact(message)
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = redact(code) if code is not None else None
        self.request_id = redact(request_id) if request_id is not None else None
        if retryable is not None:
            self.retryable = retryable
        self.body = redact_json(body)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )


class MissingAPIKeyError(ClineAPIError):
    """No key: nothing was sent."""


class InvalidAPIKeyError(MissingAPIKeyError):
    """A key that no request can carry (a control character, say): nothing was sent. The
    message names where the key came from and the position, never the key."""


class APIConnectionError(ClineAPIError):
    retryable = True


class APITimeoutError(APIConnectionError):
    """A time bound ran out. Not retried, except a connection that could not be made in time: a
    server silent for a minute rarely answers the next request sooner, and retrying would
    multiply the wait."""

    retryable = False


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
    if parsed is _TOO_DEEP:
        detail = "the error body is not readable JSON (nested too deep)"
    elif detail is None:
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
        "body": _shorten(body.decode("utf-8", "replace")) if _is_raw(parsed) else parsed,
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


# What _parse_json answers for JSON nested too deep to read (no JSON value is this object).
_TOO_DEEP: Any = object()


def _parse_json(body: bytes) -> Any:
    """The body as JSON; None when it is empty or not JSON, ``_TOO_DEEP`` when nested too deep."""
    try:
        return loads(body) if body else None
    except JSONTooDeepError:
        return _TOO_DEEP
    except ValueError:
        return None


def _is_raw(parsed: Any) -> bool:
    """Whether the body must be kept as text: it was not readable JSON."""
    return parsed is None or parsed is _TOO_DEEP


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
        code_text = _first_line(str(code))[:MAX_CODE_LENGTH] if code is not None else ""
        return (
            code_text or None,
            _first_line(message) if isinstance(message, str) else None,
        )
    return None, None


def _resets_at(parsed: Any) -> str | None:
    """When a spend limit resets, if the body says (``error.resets_at``)."""
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    value = error.get("resets_at") if isinstance(error, Mapping) else None
    if not isinstance(value, str):
        return None
    return _first_line(value) or None


def _first_line(text: str) -> str:
    """The first non-blank line of what the server wrote, its control characters (a terminal's
    escape sequences among them) turned into spaces: it is shown in a terminal and an editor."""
    for line in text.splitlines():
        if line := _CONTROL_CHARACTERS.sub(" ", line).strip():
            return line
    return ""


def _shorten(text: str) -> str:
    """``text`` redacted, then cut to one message's length: redacting after the cut could leave
    the head of a secret that straddles it."""
    text = redact(text)
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 1] + "…"
