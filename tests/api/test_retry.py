from __future__ import annotations

import pytest

from cline_bridge.api.retry import backoff, describe_wait, parse_retry_after, should_retry_status

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "message", "expected"),
    [
        ({"retry-after-ms": "1500"}, "", 1.5),
        ({"retry-after": "2"}, "", 2.0),
        ({"retry-after": "Fri, 15 Jan 2027 08:00:30 GMT"}, "", 30.0),
        ({"retry-after": "soon"}, "", None),
        ({"x-ratelimit-reset": "12"}, "", 12.0),
        ({"ratelimit-reset": str(NOW + 90)}, "", 90.0),
        ({"retry-after-ms": "100", "retry-after": "9"}, "", 0.1),
        ({}, "Daily free limit reached on model x. Try again in 19h 39m", 70740.0),
        ({}, "try again in 45s", 45.0),
        ({}, "Try again in 2d", 172800.0),
        ({}, "Try again later", None),
        ({}, "", None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], message: str, expected: float | None) -> None:
    assert parse_retry_after(headers, message, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {}, True),
        (408, {}, True),
        (500, {}, True),
        (502, {}, True),
        (503, {}, True),
        (504, {}, True),
        (429, {"no-retry": "true"}, False),
        (400, {}, False),
        (401, {}, False),
        (402, {}, False),
        (403, {}, False),
        (404, {}, False),
        (501, {}, False),
    ],
)
def test_should_retry_status(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry_status(status, headers) is expected


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempt, nominal in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        for _ in range(50):
            assert 0.75 * nominal <= backoff(attempt) <= nominal


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5 s"), (120, "2 min"), (3600, "1 h"), (70740, "19 h 39 min")]
)
def test_describe_wait(seconds: float, text: str) -> None:
    assert describe_wait(seconds) == text
