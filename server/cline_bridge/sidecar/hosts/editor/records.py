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
bound fails as ``RecordTooLarge``: that one task is not followed. The bounded read, the manifest's
usage (tokens and cost) and where the data folder is are ``cline_records``', which the ACP host
shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cline_bridge.sidecar.cline_records import (
    MAX_MANIFEST_BYTES,
    RecordNotReady,
    Usage,
    manifest_path,
    manifest_usage,
    read_json,
)

VERSION = 1
"""The manifest and messages version this module reads."""
MAX_MESSAGES_BYTES = 64 * 1024 * 1024
"""A conversation with many images can be large; beyond this it is not read."""


class UnknownRecord(Exception):
    """The record is of a version the bridge does not read; the message says which."""


@dataclass(frozen=True)
class Manifest:
    """What the bridge takes from a session manifest."""

    session_id: str
    status: str
    pid: int | None
    """The extension host's process: it tells the VS Code windows apart."""
    prompt: str
    started_at: str
    usage: Usage | None = None
    """The task's tokens and cost so far, if Cline recorded them."""


@dataclass(frozen=True)
class Session:
    """One task as Cline last recorded it."""

    manifest: Manifest
    messages: tuple[dict[str, Any], ...] | None
    """None: not read again, as only the manifest changed since the last reading."""


def messages_path(folder: Path) -> Path:
    return folder / f"{folder.name}.messages.json"


def read_manifest(folder: Path) -> Manifest:
    data = read_json(manifest_path(folder), MAX_MANIFEST_BYTES)
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
        usage=manifest_usage(data),
    )


def read_messages(folder: Path) -> tuple[dict[str, Any], ...]:
    path = messages_path(folder)
    if not path.exists():
        return ()  # Cline writes it just after the manifest
    data = read_json(path, MAX_MESSAGES_BYTES)
    if data.get("version") != VERSION:
        raise UnknownRecord(f"a messages file of version {data.get('version')!r}")
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise RecordNotReady("a messages file without messages")
    return tuple(message for message in messages if isinstance(message, dict))


def read_session(folder: Path) -> Session:
    return Session(read_manifest(folder), read_messages(folder))
