"""The retry policy as small pure functions (cline-rest-api.md §7.4 and §9)."""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Mapping

from cline_bridge.api.constants import BACKOFF_BASE, BACKOFF_MAX, RETRYABLE_STATUSES

_TRY_AGAIN_IN = re.compile(
    r"try again in\s+(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?"
    r"\s*(?:(?P<m>\d+)\s*m(?:in)?)?\s*(?:(?P<s>\d+)\s*s)?",
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
    "Try again in 19h 39m" in the error message. None when it does not say."""
    now = time.time() if now is None else now
    if (value := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(value) / 1000, 0.0)
        except ValueError:
            pass
    if (value := headers.get("retry-after")) is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            if (date := _http_date(value)) is not None:
                return max(date - now, 0.0)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        if (value := headers.get(name)) is not None:
            try:
                seconds = float(value)
            except ValueError:
                continue
            # Large values are a Unix time, small ones a delay.
            return max(seconds - now, 0.0) if seconds > 1e9 else max(seconds, 0.0)
    match = _TRY_AGAIN_IN.search(message)
    if match and any(match.groupdict().values()):
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        return float(
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
    """A wait as a person reads it: "45 s", "3 min", "19 h 39 min"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return float(parsed.timestamp())
