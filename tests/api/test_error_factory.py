from __future__ import annotations

import json

import pytest

from cline_bridge.api.errors import (
    APIStatusError,
    AuthenticationError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    error_from_chunk,
    error_from_response,
)


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "detail"),
    [
        (
            401,
            {"error": {"code": 401, "message": "Invalid API key"}},
            AuthenticationError,
            "401",
            "Invalid API key",
        ),
        (
            401,
            {"success": False, "error": "Unauthorized"},
            AuthenticationError,
            None,
            "Unauthorized",
        ),
        (
            402,
            {
                "success": False,
                "error": json.dumps(
                    {"code": "insufficient_credits", "message": "Not enough credits available"}
                ),
            },
            InsufficientCreditsError,
            "insufficient_credits",
            "Not enough credits available",
        ),
        (
            403,
            {"error": {"code": "ENTITLEMENT_ERROR", "message": "not subscribed"}},
            PermissionDeniedError,
            "ENTITLEMENT_ERROR",
            "not subscribed",
        ),
        (404, {"error": "model not found"}, NotFoundError, None, "model not found"),
        (
            429,
            {"error": {"code": "SPEND_LIMIT_EXCEEDED", "message": "Daily limit"}},
            RateLimitError,
            "SPEND_LIMIT_EXCEEDED",
            "Daily limit",
        ),
        (503, "upstream connect error", InternalServerError, None, "upstream connect error"),
        (502, "<html><h1>502 Bad Gateway</h1></html>", InternalServerError, None, "HTTP 502"),
        (418, {"error": "teapot"}, APIStatusError, None, "teapot"),
    ],
)
def test_error_from_response(
    status: int, body: object, cls: type, code: str | None, detail: str
) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()

    error = error_from_response(status, {"x-request-id": "req-1"}, raw)

    assert type(error) is cls
    assert (error.status, error.code, error.request_id) == (status, code, "req-1")
    assert detail in error.message
    assert "\n" not in error.message
    assert "{" not in error.message


def test_only_transient_statuses_are_retryable() -> None:
    assert error_from_response(500, {}, b"").retryable
    assert error_from_response(429, {}, b"").retryable
    assert not error_from_response(401, {}, b"").retryable
    assert not error_from_response(418, {}, b"").retryable


@pytest.mark.parametrize(
    ("chunk", "code", "retryable"),
    [
        (
            {
                "choices": [
                    {
                        "finish_reason": "error",
                        "error": {"code": "context_length_exceeded", "message": "too long"},
                    }
                ]
            },
            "context_length_exceeded",
            False,
        ),
        (
            {
                "choices": [
                    {"finish_reason": "error", "error": {"code": "server_error", "message": "oops"}}
                ]
            },
            "server_error",
            True,
        ),
        (
            {"error": {"code": 502, "message": "Upstream stream ended before terminal chunk"}},
            "502",
            True,
        ),
    ],
)
def test_error_from_chunk(chunk: dict[str, object], code: str, retryable: bool) -> None:
    error = error_from_chunk(chunk)

    assert error is not None
    assert (error.code, error.retryable) == (code, retryable)
    assert error.message.startswith("Cline API error mid-stream")


def test_a_normal_chunk_is_no_error() -> None:
    assert (
        error_from_chunk({"choices": [{"delta": {"content": "x"}, "finish_reason": None}]}) is None
    )


def test_quotas_are_not_retried_and_say_when_they_reset() -> None:
    body = {
        "error": {
            "code": "SPEND_LIMIT_EXCEEDED",
            "resets_at": "2026-11-26T00:00:00Z",
            "message": "Your daily spend limit of $20.00 has been reached.",
        }
    }

    error = error_from_response(429, {}, json.dumps(body).encode())

    assert isinstance(error, RateLimitError)
    assert error.retryable is False
    assert error.message.endswith("resets at 2026-11-26T00:00:00Z")
