"""What both hosts read of the records Cline keeps of its tasks: where they are, one record read
with a bound, and the tokens and cost a session manifest holds.

The Cline CLI (ACP host) and the VS Code extension (Cline 4, editor host) keep each task in
``<data dir>/sessions/<id>/``, and its manifest ``<id>.json`` in the same format. The manifest's
``metadata.usage`` is the task's totals so far (``inputTokens``, ``outputTokens``,
``cacheReadTokens``, ``cacheWriteTokens``, ``totalCost``), ``metadata.aggregateUsage`` the same
including the task's subagents; Cline writes them before it says the turn is over. The CLI sends
no usage over ACP, so this is where either host learns it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

MAX_MANIFEST_BYTES = 1024 * 1024

_LARGEST = 2**63
_TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")


class Usage(TypedDict):
    """A task's tokens and cost as task events carry them (``turnEnd.usage``)."""

    inputTokens: int
    outputTokens: int
    cacheReadTokens: int
    cacheWriteTokens: int
    cost: float | None
    """In USD, as Cline priced it; None when Cline recorded no cost."""


class RecordNotReady(Exception):
    """The record is missing or half-written: try again at its next change."""


class RecordTooLarge(Exception):
    """The record is over its size bound; the message says which and the bound."""


def cline_data_dir(environ: Mapping[str, str]) -> Path:
    """Cline's data folder, found as Cline finds it in ``environ``: ``CLINE_DATA_DIR``, else
    ``$CLINE_DIR/data``, else ``~/.cline/data`` (the same on every OS; ``~`` is the home that
    ``environ`` names, as the agent started with it sees it)."""
    if explicit := environ.get("CLINE_DATA_DIR"):
        return Path(explicit).expanduser()
    if cline_dir := environ.get("CLINE_DIR"):
        return Path(cline_dir).expanduser() / "data"
    return _home(environ) / ".cline" / "data"


def session_folder(data_dir: Path, session_id: str) -> Path | None:
    """The folder of session ``session_id``; None for an id that is no plain folder name (it
    comes from the agent, and must not lead out of the sessions folder)."""
    if not session_id or session_id in (".", "..") or Path(session_id).name != session_id:
        return None
    if os.altsep and os.altsep in session_id:
        return None
    return data_dir / "sessions" / session_id


def manifest_path(folder: Path) -> Path:
    return folder / f"{folder.name}.json"


def read_json(path: Path, limit: int) -> dict[str, Any]:
    """The JSON object in ``path``, read no further than ``limit`` bytes."""
    try:
        with path.open("rb") as file:
            content = file.read(limit + 1)
    except FileNotFoundError:
        raise RecordNotReady(f"{path.name} is not there (yet)") from None
    except OSError as error:
        raise RecordNotReady(f"{path.name} cannot be read: {error.strerror or error}") from None
    if len(content) > limit:
        raise RecordTooLarge(f"{path.name} is over {limit // (1024 * 1024)} MiB")
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RecordNotReady(f"{path.name} is being written") from None
    if not isinstance(data, dict):
        raise RecordNotReady(f"{path.name} does not hold an object")
    return data


def manifest_usage(manifest: Mapping[str, Any]) -> Usage | None:
    """The usage a session manifest records: ``metadata.aggregateUsage`` (it counts the task's
    subagents too), else ``metadata.usage``; None when it records neither.

    Read tolerantly: a count that is not a number, or is negative, counts as absent, and an
    absent token count as 0; a usage with no count and no cost at all is none.
    """
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    for key in ("aggregateUsage", "usage"):
        usage = _usage(metadata.get(key))
        if usage is not None:
            return usage
    return None


def read_usage(data_dir: Path, session_id: str) -> Usage | None:
    """The usage in the manifest of session ``session_id`` under ``data_dir``.

    Blocking (it reads a file of at most ``MAX_MANIFEST_BYTES``); raises ``RecordNotReady`` or
    ``RecordTooLarge`` as ``read_json`` does.
    """
    folder = session_folder(data_dir, session_id)
    if folder is None:
        return None
    return manifest_usage(read_json(manifest_path(folder), MAX_MANIFEST_BYTES))


def _usage(recorded: Any) -> Usage | None:
    if not isinstance(recorded, Mapping):
        return None
    counts = {name: _amount(recorded.get(name)) for name in _TOKEN_FIELDS}
    cost = _amount(recorded.get("totalCost"))
    if cost is None and all(count is None for count in counts.values()):
        return None
    tokens = {name: int(count or 0) for name, count in counts.items()}
    return Usage(
        inputTokens=tokens["inputTokens"],
        outputTokens=tokens["outputTokens"],
        cacheReadTokens=tokens["cacheReadTokens"],
        cacheWriteTokens=tokens["cacheWriteTokens"],
        cost=float(cost) if cost is not None else None,
    )


def _amount(value: Any) -> int | float | None:
    """``value`` if it is a finite number of at least 0 (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):  # JSON integers have no bound; past this one they are nonsense
        return value if 0 <= value < _LARGEST else None
    return value if math.isfinite(value) and value >= 0 else None


def _home(environ: Mapping[str, str]) -> Path:
    """The home folder ``environ`` names (Node's ``os.homedir()``), else the sidecar's own."""
    home = environ.get("USERPROFILE" if os.name == "nt" else "HOME")
    return Path(home) if home else Path.home()
