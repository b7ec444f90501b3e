"""The ``apply_patch`` tool's input, read to show what it would change.

Cline (with a GPT model) edits files with a freeform patch (cline-acp.md, section 6)::

    *** Begin Patch
    *** Update File: /abs/src/app.py
    @@ def main():
    -    print('hi')
    +    print('hello')
    *** End Patch

``sections`` splits it into one ``Section`` per file (``Add``, ``Update`` or ``Delete``, and an
optional ``*** Move to:``); ``apply_hunks`` applies an update's hunks to the file's text as it is
now, so that the change can be shown as a unified diff with real line numbers. Hunks are found
as the patch tool finds them: after the ``@@`` line's anchor, if any, first exactly, then ignoring
trailing and then all surrounding blanks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$")
_MOVE = re.compile(r"^\*\*\* Move to: (.+)$")
_ACTIONS = {"Add": "create", "Update": "edit", "Delete": "delete"}
_SAME_LINE: tuple[Callable[[str], str], ...] = (lambda s: s, str.rstrip, str.strip)
SEARCH_LIMIT = 5_000_000
"""Line comparisons a hunk may cost to be found (the file's lines times the hunk's); beyond it
the patch is shown as written."""


@dataclass
class Section:
    """One file's part of a patch."""

    action: str
    """``create``, ``edit`` or ``delete``."""
    path: str
    move_to: str | None = None
    lines: list[str] = field(default_factory=list)
    """The section's body: ``+`` lines of a new file; ``@@``, ``+``, ``-`` and space lines of an
    update."""

    def added_text(self) -> str:
        """A new file's content: its ``+`` lines without the ``+``."""
        return "\n".join(line[1:] if line.startswith("+") else line for line in self.lines)


def sections(patch: str) -> list[Section]:
    """The files ``patch`` changes, in order; empty if it names none."""
    found: list[Section] = []
    for line in patch.split("\n"):
        header = _HEADER.match(line)
        moved = _MOVE.match(line)
        if header:
            found.append(Section(_ACTIONS[header.group(1)], header.group(2).strip()))
        elif moved and found:
            found[-1].move_to = moved.group(1).strip()
        elif line.startswith("*** "):  # Begin Patch, End Patch, End of File
            continue
        elif found:
            found[-1].lines.append(line)
    return found


def apply_hunks(current: str, hunk_lines: Sequence[str]) -> str | None:
    """``current`` with an update section's hunks applied; None if one of them is not there."""
    lines = current.split("\n")
    cursor = 0
    for anchor, hunk in _hunks(hunk_lines):
        if anchor:
            at = _find(lines, [anchor], cursor)
            if at is None:
                return None
            cursor = at + 1
        old = [line[1:] for line in hunk if not line.startswith("+")]
        new = [line[1:] for line in hunk if not line.startswith("-")]
        if not old and not anchor:
            return None  # an insertion needs somewhere to go
        at = _find(lines, old, cursor) if old else cursor
        if at is None:
            return None
        lines[at : at + len(old)] = new
        cursor = at + len(new)
    return "\n".join(lines)


def _hunks(hunk_lines: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``(anchor, lines)`` per hunk: the text after its ``@@`` (may be empty), then its lines,
    each starting with ``+``, ``-`` or a space (a line without one is context)."""
    hunks: list[tuple[str, list[str]]] = []
    for line in hunk_lines:
        if line.startswith("@@"):
            hunks.append((line[2:].strip(), []))
            continue
        if not hunks:
            hunks.append(("", []))
        hunks[-1][1].append(line if line[:1] in ("+", "-", " ") else f" {line}")
    return [(anchor, lines) for anchor, lines in hunks if lines or anchor]


def _find(lines: Sequence[str], wanted: Sequence[str], start: int) -> int | None:
    if len(lines) * len(wanted) > SEARCH_LIMIT:
        return None
    for same in _SAME_LINE:
        target = [same(line) for line in wanted]
        for at in range(start, len(lines) - len(wanted) + 1):
            if all(same(lines[at + i]) == target[i] for i in range(len(wanted))):
                return at
    return None
