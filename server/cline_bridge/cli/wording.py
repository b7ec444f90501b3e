"""What the one-shot commands say: the bridge's results, in the words of one line.

A command says what happened, not what was asked: ``Approved the edit of hello.txt.``, or
``Nothing to approve.`` when nothing waited for an answer and nothing was pressed.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_NOTHING_TO = {"approve": "Nothing to approve", "reject": "Nothing to reject"}
_BUTTON = {"approve": "primary", "reject": "secondary"}
_STATES = {
    "running": "Cline is working on the task",
    "idle": "the task waits for a message",
    "none": "there is no task",
    "failed": "the task failed",
}


def host(result: Mapping[str, Any]) -> str:
    """Where a task command went: ``editor host, task 1796…``."""
    name = result.get("host")
    described = f"{name} host" if isinstance(name, str) else "bridge"
    task_id = result.get("taskId")
    return f"{described}, task {task_id}" if isinstance(task_id, str) else described


def sent(result: Mapping[str, Any]) -> str:
    """What ``send`` did."""
    if result.get("action") == "queued":
        return f"Message queued for Cline, after the current turn ({host(result)})."
    return f"Message sent to Cline ({host(result)})."


def pressed(command: str, result: Mapping[str, Any]) -> str:
    """What ``approve`` or ``reject`` did, from the bridge's ``action``."""
    action = result.get("action")
    if action in ("approved", "rejected"):
        return f"{str(action).capitalize()} {tool_call(result)}."
    if action == "none":
        state = _STATES.get(str(result.get("state")))
        return f"{_NOTHING_TO[command]}: {state}." if state else f"{_NOTHING_TO[command]}."
    if action == "resumed":
        return "Nothing waited for an answer: Cline goes on with the task (a new turn)."
    if action == "cancelled":
        return "Stopped Cline's running turn."
    if action == "pressed":
        return (
            f"Pressed Cline's {_BUTTON[command]} button (this Cline does not tell the bridge "
            "what it waits for)."
        )
    return "Approved." if command == "approve" else "Rejected."  # a bridge that says no more


def events(status: Mapping[str, Any]) -> str:
    """Whether a bridge sends task events, and why not, from its ``clineBridge.status``."""
    host = status.get("host")
    described = status.get(host) if isinstance(host, str) else None
    details: Mapping[str, Any] = described if isinstance(described, dict) else {}
    if host == "acp":
        return f"Task events: on (the Cline CLI over ACP){_current_task(details)}."
    if host == "editor" and details.get("events") is True:
        where = details.get("dataDir")
        return f"Task events: on (from Cline's records in {where}){_current_task(details)}."
    if host == "editor" and "events" in details:
        return (
            f"Task events: off: {details.get('reason')}. approve and reject press Cline's buttons "
            "without knowing what waits for an answer."
        )
    if host == "none":
        return "Task events: none (no Cline host: no ClineAPI in the editor, no Cline CLI)."
    return "Task events: this bridge does not say."


def _current_task(details: Mapping[str, Any]) -> str:
    task_id = details.get("taskId")
    if not isinstance(task_id, str):
        return "; no task yet"
    state = {
        "running": "Cline is working on it",
        "awaitingApproval": "it waits for an approval",
        "idle": "it waits for a message",
        "failed": "it failed",
    }.get(str(details.get("state")), str(details.get("state")))
    return f"; task {task_id}: {state}"


def tool_call(result: Mapping[str, Any]) -> str:
    """A tool call as a phrase: ``the edit of src/app.py``, ``the command `pytest -q```."""
    kind = result.get("toolKind")
    tool_input = result.get("input")
    fields: Mapping[str, Any] = tool_input if isinstance(tool_input, dict) else {}
    if kind == "edit" and isinstance(fields.get("path"), str):
        return f"the edit of {_relative(fields['path'])}"
    if kind == "execute" and isinstance(fields.get("commands"), list):
        commands = [c if isinstance(c, str) else str(c.get("command")) for c in fields["commands"]]
        return f"the command `{'; '.join(commands)}`"
    if kind == "read" and isinstance(fields.get("files"), list):
        paths = [_relative(str(f.get("path"))) for f in fields["files"] if isinstance(f, dict)]
        return f"reading {', '.join(paths)}"
    title = result.get("title")
    return f"the use of {title}" if isinstance(title, str) and title else "the tool call"


def _relative(path: str) -> str:
    """``path`` relative to the current folder when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative
