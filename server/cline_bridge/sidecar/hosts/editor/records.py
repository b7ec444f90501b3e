"""What Cline 4 records of its tasks, read tolerantly.

Cline keeps each task (an SDK session) in ``<data dir>/sessions/<id>/``:

- ``<id>.json``, the session manifest: its ``status`` (``running``; ``pending`` while a tool waits
  for approval; ``idle`` once the turn is over; ``completed`` when a new task replaced it;
  ``failed``, ``cancelled``), the ``pid`` of the VS Code window's extension host, the ``prompt``;
- ``<id>.messages.json``, the conversation ("messages.json contract v1"): ``messages[]`` of
  ``{id, role, content: [text | thinking | image | tool_use | tool_result]}``.

Both are rewritten in place as the task goes, so a read can catch one half-written: that read
fails as ``RecordNotReady`` and is tried again. A file of a version this module does not know
fails as ``UnknownRecord``: the bridge then says it cannot follow Cline. A file over its size
bound fails as ``RecordTooLarge``: that one task is not followed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = 1
"""The manifest and messages version this module reads."""
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MESSAGES_BYTES = 64 * 1024 * 1024
"""A conversation with many images can be large; beyond this it is not read."""


def cline_data_dir(environ: Mapping[str, str]) -> Path:
    """Cline's data folder, found as Cline finds it: ``CLINE_DATA_DIR``, else
    ``$CLINE_DIR/data``, else ``~/.cline/data`` (the same on every OS)."""
    if explicit := environ.get("CLINE_DATA_DIR"):
        return Path(explicit).expanduser()
    if cline_dir := environ.get("CLINE_DIR"):
        return Path(cline_dir).expanduser() / "data"
    return Path.home() / ".cline" / "data"


class RecordNotReady(Exception):
    """The record is missing or half-written: try again at its next change."""


class UnknownRecord(Exception):
    """The record is of a version the bridge does not read; the message says which."""


class RecordTooLarge(Exception):
    """The record is over its size bound; the message says which and the bound."""


@dataclass(frozen=True)
class Manifest:
    """What the bridge takes from a session manifest."""

    session_id: str
    status: str
    pid: int | None
    """The extension host's process: it tells the VS Code windows apart."""
    prompt: str
    started_at: str


@dataclass(frozen=True)
class Session:
    """One task as Cline last recorded it."""

    manifest: Manifest
    messages: tuple[dict[str, Any], ...] | None
    """None: not read again, as only the manifest changed since the last reading."""


def manifest_path(folder: Path) -> Path:
    return folder / f"{folder.name}.json"


def messages_path(folder: Path) -> Path:
    return folder / f"{folder.name}.messages.json"


def read_manifest(folder: Path) -> Manifest:
    data = _read_json(manifest_path(folder), MAX_MANIFEST_BYTES)
    if data.get("version") != VERSION:
        raise UnknownRecord(f"a session manifest of version {data.get('version')!r}")
    session_id, status = data.get("session_id"), data.get("status")
    if not isinstance(session_id, str) or not isinstance(status, str):
        raise RecordNotReady("a manifest without session_id or status")
    pid = data.get("pid")
    prompt = data.get("prompt")
    started_at = data.get("started_at")
    return Manifest(
        session_id=session_id,
        status=status,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        prompt=prompt if isinstance(prompt, str) else "",
        started_at=started_at if isinstance(started_at, str) else "",
    )


def read_messages(folder: Path) -> tuple[dict[str, Any], ...]:
    path = messages_path(folder)
    if not path.exists():
        return ()  # Cline writes it just after the manifest
    data = _read_json(path, MAX_MESSAGES_BYTES)
    if data.get("version") != VERSION:
        raise UnknownRecord(f"a messages file of version {data.get('version')!r}")
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise RecordNotReady("a messages file without messages")
    return tuple(message for message in messages if isinstance(message, dict))


def read_session(folder: Path) -> Session:
    return Session(read_manifest(folder), read_messages(folder))


def _read_json(path: Path, limit: int) -> dict[str, Any]:
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
