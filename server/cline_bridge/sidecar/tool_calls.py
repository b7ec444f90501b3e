"""What a tool call is called in task events, and what kind of tool it is.

The two hosts hear of a tool call differently: the Cline CLI titles it ``"<tool>: <arguments>"``
(ACP), the VS Code extension records the tool's name and input. Both become a title a person can
read (``editor: write src/app.py``), the tool's name (``editor``) and one of ACP's tool kinds, so
that whoever follows a task sees the same on either host.
"""

from __future__ import annotations

import re
from typing import Any

_PATCH_ACTION = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$", re.MULTILINE)
# Cline's tool names are single words (``run_commands``; an MCP tool's may hold ``-`` or ``.``).
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]+")

TOOL_KINDS = {
    "editor": "edit",
    "apply_patch": "edit",
    "read_files": "read",
    "search_codebase": "search",
    "run_commands": "execute",
    "fetch_web_content": "fetch",
}
"""ACP's kind (``read``, ``edit``, ``execute``, ``search``, ``fetch``, ``think``, ``other``) of each
tool of Cline 4; any other tool is ``other``."""


def describe(tool: str, tool_input: Any) -> str | None:
    """What a call of ``tool`` with ``tool_input`` does, when its arguments say it plainly
    (``write src/app.py``, ``add a.py, update b.py``, ``ls -la``); None otherwise."""
    if not isinstance(tool_input, dict):
        return None
    if tool == "apply_patch" and isinstance(tool_input.get("input"), str):
        actions = [
            f"{verb.lower()} {path}" for verb, path in _PATCH_ACTION.findall(tool_input["input"])
        ]
        return ", ".join(actions) or None
    if tool == "editor" and isinstance(tool_input.get("path"), str):
        verb = "edit" if tool_input.get("old_text") or tool_input.get("insert_line") else "write"
        return f"{verb} {tool_input['path']}"
    if tool == "read_files" and isinstance(tool_input.get("files"), list):
        paths = [f.get("path") for f in tool_input["files"] if isinstance(f, dict)]
        return ", ".join(str(path) for path in paths) or None
    if tool == "run_commands" and isinstance(tool_input.get("commands"), list):
        commands = [
            c if isinstance(c, str) else c.get("command")
            for c in tool_input["commands"]
            if isinstance(c, (str, dict))
        ]
        return "; ".join(str(c) for c in commands if c) or None
    return None


def readable_title(title: str, tool_input: Any) -> str:
    """A one-line title for a tool call the Cline CLI titled ``title``.

    It titles a call ``"<tool>: <arguments>"``, readable for commands (``run_commands: ls``)
    but cut-off JSON for the rest (``apply_patch: {"input":"*** Begin Patch\n...``). For the
    tools whose arguments say plainly what they do, that is said instead.
    """
    tool, separator, rest = title.partition(": ")
    if not separator or not rest.startswith("{"):
        return title
    described = describe(tool, tool_input)
    return f"{tool}: {described}" if described else title


def title_tool(title: str) -> str | None:
    """The tool a call the Cline CLI titled ``title`` is of: the title's head before ``": "``
    (``run_commands: ls`` → ``run_commands``); None when the title does not start so."""
    tool, separator, _rest = title.partition(": ")
    return tool if separator and _TOOL_NAME.fullmatch(tool) else None


def tool_title(tool: str, tool_input: Any) -> str:
    """A one-line title for a call of ``tool`` with ``tool_input`` (the VS Code extension's
    records): ``editor: write src/app.py``, or the tool's name alone."""
    described = describe(tool, tool_input)
    return f"{tool}: {described}" if described else tool


def tool_kind(tool: str) -> str:
    return TOOL_KINDS.get(tool, "other")
