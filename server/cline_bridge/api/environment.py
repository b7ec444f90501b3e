"""The REST client's time bounds as the environment sets them, read the same way by the CLI
(``cline-bridge chat``) and the sidecar (under its ``apiTimeouts`` setting).

No imports beyond the standard library: the sidecar reads these at start-up, before it knows
whether it will ever call the API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypedDict, cast

ENV_TIME_BOUNDS = {
    "CLINE_API_CONNECT_TIMEOUT": "connect_timeout",
    "CLINE_API_FIRST_BYTE_TIMEOUT": "first_byte_timeout",
    "CLINE_API_IDLE_TIMEOUT": "idle_timeout",
    "CLINE_API_DEADLINE": "deadline",
}
"""The environment variables that change the REST client's time bounds (seconds), and the
``ClineClient`` keyword each one sets."""


class TimeBoundKeywords(TypedDict, total=False):
    """The time bounds a setting changes, as ``ClineClient`` keywords (seconds)."""

    connect_timeout: float
    first_byte_timeout: float
    idle_timeout: float
    deadline: float


class TimeBoundError(ValueError):
    """A time bound that is not a positive number of seconds; the message names where it came
    from and quotes at most the start of the value."""


def time_bounds_from(
    environ: Mapping[str, str], on_invalid: Callable[[TimeBoundError], None] | None = None
) -> TimeBoundKeywords:
    """The ``ClineClient`` keywords the environment's time bounds set (unset or blank ones left
    out). A value that is not a positive number raises ``TimeBoundError``, or, with
    ``on_invalid``, is passed to it and left out (the sidecar logs it and goes on)."""
    bounds: dict[str, float] = {}
    for variable, keyword in ENV_TIME_BOUNDS.items():
        if (value := environ.get(variable, "").strip()) == "":
            continue
        try:
            bounds[keyword] = seconds_from(variable, value)
        except TimeBoundError as error:
            if on_invalid is None:
                raise
            on_invalid(error)
    return cast(TimeBoundKeywords, bounds)


def seconds_from(source: str, value: str) -> float:
    """``value`` (text from ``source``) as a positive, finite number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise TimeBoundError(f"{source} must be a positive number of seconds, not {value[:20]!r}")
    return seconds
