"""The retry policy as small pure functions (cline-rest-api.md §7.4 and §9)."""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Mapping

from cline_bridge.api.constants import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    LONGEST_WAIT,
    RETRYABLE_STATUSES,
)

# At most six digits a number: "Try again in 99999999999999999999d" must not build a huge int.
_TRY_AGAIN_IN = re.compile(
    r"try again in\s+(?:(?P<d>\d{1,6})\s*d)?\s*(?:(?P<h>\d{1,6})\s*h)?"
    r"\s*(?:(?P<m>\d{1,6})\s*m(?:in)?)?\s*(?:(?P<s>\d{1,6})\s*s)?",
    re.IGNORECASE,
)


def should_retry_status(status: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this status may be retried: never 400-404, never with no-retry."""
    if headers.get("no-retry", "").lower() in ("true", "1", "yes"):
        return False
    return status in RETRYABLE_STATUSES


def parse_retry_after(
    headers: Mapping[str, str], message: str = "", now: float | None = None
) -> float | None:
    """Seconds the server asks to wait, from ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date), ``x-ratelimit-reset``/``ratelimit-reset`` (seconds or a Unix time), or else a
    "Try again in 19h 39m" in the error message. None when it does not say.

    Whatever the server wrote, the answer is a finite number from 0 to ``LONGEST_WAIT``: ``inf``,
    ``1e400``, ``nan`` or a date in the year 9999 never reach arithmetic that could overflow.
    """
    now = time.time() if now is None else now
    if (seconds := _number(headers.get("retry-after-ms"))) is not None:
        return _clamp(seconds / 1000)
    if (value := headers.get("retry-after")) is not None:
        if (seconds := _number(value)) is not None:
            return _clamp(seconds)
        if (date := _http_date(value)) is not None:
            return _clamp(date - now)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        if (seconds := _number(headers.get(name))) is not None:
            # Large values are a Unix time, small ones a delay.
            return _clamp(seconds - now if seconds > 1e9 else seconds)
    match = _TRY_AGAIN_IN.search(message)
    if match and any(match.groupdict().values()):
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        return _clamp(
            parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
    return None


def backoff(attempt: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_MAX) -> float:
    """Exponential backoff with jitter for retry ``attempt`` (0 for the first retry)."""
    return float(min(base * 2**attempt, cap)) * (1 - 0.25 * random.random())


def describe_wait(seconds: float) -> str:
    """A wait as a person reads it: "0.3 s", "45 s", "3 min", "19 h 39 min"."""
    if seconds < 10:
        return f"{seconds:.1f}".removesuffix(".0") + " s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _number(value: str | None) -> float | None:
    """A header's number, or None when it is absent, not a number or not a number at all
    (``nan``). Infinity stays: ``_clamp`` makes it the longest wait."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _clamp(seconds: float) -> float:
    return float(min(max(seconds, 0.0), LONGEST_WAIT))


def _http_date(value: str) -> float | None:
    try:
        return float(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, OverflowError, OSError):
        return None
