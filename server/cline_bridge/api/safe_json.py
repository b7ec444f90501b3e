"""``json.loads`` for what a server sends: nesting beyond a bound is refused, never a crash.

A body nested 100,000 levels deep makes ``json.loads`` raise ``RecursionError``; one nested 900
levels deep parses, then breaks whatever walks it (redaction, pydantic, the JSON-RPC encoder).
Both are refused here as a ``JSONTooDeepError``, a ``ValueError`` like any unreadable JSON.
"""

from __future__ import annotations

import json
from typing import Any

from cline_bridge.api.constants import MAX_JSON_DEPTH


class JSONTooDeepError(ValueError):
    """The JSON nests arrays and objects deeper than the bound."""


def loads(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``text`` like ``json.loads``; raise ``JSONTooDeepError`` (a ``ValueError``) when its
    nesting exceeds ``max_depth``, and ``ValueError`` when it is not JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeepError(f"JSON nested deeper than {max_depth} levels") from None
    # Fewer brackets than the bound, strings included, cannot nest deeper: no walk needed.
    if _openers(text) > max_depth and depth_exceeds(value, max_depth):
        raise JSONTooDeepError(f"JSON nested deeper than {max_depth} levels")
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests lists and dicts deeper than ``max_depth`` (a list is one level).
    Walked with a stack of its own, so any depth is safe to ask about."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth + 1 > max_depth:
            return True
        pending.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def _openers(text: str | bytes) -> int:
    """How many ``[`` and ``{`` the text holds, in strings too: a bound on its depth."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")
