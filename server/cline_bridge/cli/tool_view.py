"""What a tool call of Cline will do, in the words and diffs a person judges it by.

A task event names the tool (``tool``: ``editor``, ``apply_patch``, ``run_commands``, ...), its
ACP kind and its arguments (``input``, as the model wrote them). ``summarize`` turns them into
one line (``edit hello.txt``, ``run `pytest -q```, ``read utils.py``); ``preview`` adds what an
approval must show: the unified diff of an edit against the file as it is now, the command
lines and the folder they run in, the URLs of a fetch, the paths of a read. Paths are shown
relative to the current folder when they are in it.

Everything here comes from the model and the disk, so it is bounded: a file is read up to
``FILE_LIMIT`` bytes, a diff is computed for at most ``DIFF_LINE_LIMIT`` lines a side, and every
line shown has its control characters replaced (a file's escape codes must not drive the
terminal).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cline_bridge.cli import patches

FILE_LIMIT = 1024 * 1024
"""Bytes of a file read to show the diff of an edit; a larger file gets the edited text's diff."""
DIFF_LINE_LIMIT = 20_000
"""Lines a side beyond which no diff is computed (difflib is quadratic at worst)."""
TEXT_LIMIT = 200
"""Characters of a command line, a URL or a query shown on one line."""

# Controls but tab, and the marks that reorder text (U+202A-202E, U+2066-2069, U+200E-200F): a
# command or a diff must read as it will run ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_KIND_VERBS = {
    "read": "read",
    "edit": "edit",
    "execute": "run",
    "search": "search",
    "fetch": "fetch",
    "think": "think",
}


@dataclass(frozen=True)
class ToolView:
    """A tool call as a person reads it."""

    summary: str
    """One line: a verb and its object (``edit hello.txt``)."""
    details: tuple[str, ...] = ()
    """Lines under the question: ``$ pytest -q``, ``in src/``, a URL, a path."""
    diff: tuple[str, ...] = ()
    """The whole unified diff of an edit, one line each; empty for other tools."""


def tool_name(event: Mapping[str, Any]) -> str:
    """The Cline tool an event is about: its ``tool``, else the head of its title."""
    tool = event.get("tool")
    if isinstance(tool, str) and tool:
        return tool
    title = event.get("title")
    return title.partition(": ")[0] if isinstance(title, str) else ""


def summarize(event: Mapping[str, Any], cwd: str, task_folder: str | None = None) -> str:
    """The one-line summary of the tool call in ``event`` (a ``toolCall`` or ``approval``).

    Cheap: no file is read (only whether an edited file exists, which makes it ``create``).
    Relative paths are the task's: from ``task_folder`` (default: ``cwd``).
    """
    return _describe(event, cwd, with_diff=False, task_folder=task_folder).summary


def preview(event: Mapping[str, Any], cwd: str, task_folder: str | None = None) -> ToolView:
    """What an approval shows of the tool call in ``event``; reads the files an edit changes,
    so call it off the event loop. Commands run in ``task_folder`` (default: ``cwd``), and
    relative paths start there."""
    return _describe(event, cwd, with_diff=True, task_folder=task_folder)


def _describe(
    event: Mapping[str, Any], cwd: str, *, with_diff: bool, task_folder: str | None = None
) -> ToolView:
    tool = tool_name(event)
    tool_input = event.get("input")
    arguments: Mapping[str, Any] = tool_input if isinstance(tool_input, Mapping) else {}
    paths = _Paths(cwd, task_folder or cwd)
    view: ToolView | None = None
    if tool == "editor" and isinstance(arguments.get("path"), str):
        view = _editor(arguments, paths, with_diff)
    elif tool == "apply_patch" and isinstance(arguments.get("input"), str):
        view = _patch(arguments["input"], paths, with_diff)
    elif tool == "run_commands":
        view = _commands(arguments.get("commands"), paths)
    elif tool == "read_files":
        view = _reads(arguments.get("files"), paths)
    elif tool == "fetch_web_content":
        view = _fetches(arguments.get("requests"))
    elif tool == "search_codebase":
        view = _searches(arguments.get("queries"))
    return view or _fallback(event, tool)


# -- edits ------------------------------------------------------------------------------------


def _editor(arguments: Mapping[str, Any], paths: _Paths, with_diff: bool) -> ToolView:
    path = arguments["path"]
    shown = paths.show(path)
    new_text = _text(arguments.get("new_text"))
    old_text = arguments.get("old_text")
    insert_line = arguments.get("insert_line")
    change: _Replace | _Insert | _Overwrite
    if isinstance(old_text, str) and old_text:
        verb, change = "edit", _Replace(old_text, new_text)
    elif isinstance(insert_line, int) and not isinstance(insert_line, bool):
        verb, change = "edit", _Insert(insert_line, new_text)
    elif paths.exists(path):
        verb, change = "overwrite", _Overwrite(new_text)
    else:
        return ToolView(f"create {shown}", diff=_new_file(shown, new_text) if with_diff else ())
    if not with_diff:
        return ToolView(f"{verb} {shown}")
    return ToolView(f"{verb} {shown}", *change.diff(paths.read(path), shown))


@dataclass(frozen=True)
class _Replace:
    old_text: str
    new_text: str

    def diff(self, current: str | None, shown: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if current is not None and current.count(self.old_text) == 1:
            return (), _unified(current, current.replace(self.old_text, self.new_text), shown)
        note = (
            "(the text to replace is not in the file once: Cline will refuse the edit)"
            if current is not None
            else "(the file cannot be read here: the diff is of the replaced text alone)"
        )
        return (note,), _unified(self.old_text, self.new_text, shown)


@dataclass(frozen=True)
class _Insert:
    line: int
    new_text: str

    def diff(self, current: str | None, shown: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if current is None:
            return (f"(insert after line {self.line}; the file cannot be read here)",), (
                _unified("", self.new_text, shown)
            )
        lines = _lines(current)
        after = [*lines[: self.line], *(_lines(self.new_text) or [""]), *lines[self.line :]]
        return (), _unified(current, "\n".join(after), shown)


@dataclass(frozen=True)
class _Overwrite:
    new_text: str

    def diff(self, current: str | None, shown: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if current is None:
            return ("(replaces the whole file, which cannot be read here)",), _new_file(
                shown, self.new_text
            )
        return (), _unified(current, self.new_text, shown)


def _patch(patch: str, paths: _Paths, with_diff: bool) -> ToolView | None:
    """An ``apply_patch`` input: what it does to each file, and the diff of each against the
    file as it is now (as the model wrote it when its hunks are not in the file)."""
    changes = patches.sections(patch)
    if not changes:
        return None
    actions: list[str] = []
    notes: list[str] = []
    diff: list[str] = []
    for change in changes:
        shown = paths.show(change.path)
        target = paths.show(change.move_to) if change.move_to else shown
        actions.append(f"{change.action} {shown}" + (f" (to {target})" if change.move_to else ""))
        if not with_diff:
            continue
        if change.action == "create":
            diff += _new_file(shown, change.added_text())
            continue
        current = paths.read(change.path)
        if change.action == "delete":
            diff += _unified(current or "", "", shown, "/dev/null")
            continue
        after = patches.apply_hunks(current, change.lines) if current is not None else None
        if after is not None:
            diff += _unified(current or "", after, shown, target)
        else:
            notes.append(f"(the changes to {shown} do not match it as it is now: shown as written)")
            diff += [f"--- {shown}", f"+++ {target}", *map(_clean, change.lines)]
    return ToolView(", ".join(actions), tuple(notes), tuple(diff))


def _new_file(shown: str, text: str) -> tuple[str, ...]:
    return _unified("", text, "/dev/null", shown)


def _unified(
    before: str, after: str, shown: str, shown_after: str | None = None
) -> tuple[str, ...]:
    """The unified diff of two texts, as ``git diff`` writes it (three lines of context)."""
    old, new = _lines(before), _lines(after)
    if len(old) > DIFF_LINE_LIMIT or len(new) > DIFF_LINE_LIMIT:
        return (f"(too large to show: {len(old)} lines before, {len(new)} after)",)
    to = shown_after if shown_after is not None else shown
    lines = tuple(difflib.unified_diff(old, new, fromfile=shown, tofile=to, lineterm=""))
    if not lines and to != shown:  # the same text under another name (or an empty new file)
        lines = (f"--- {shown}", f"+++ {to}")
    return tuple(_clean(line) for line in lines)


def _lines(text: str) -> list[str]:
    """The lines of a file's text: split at newlines only (a form feed is part of its line), no
    empty line after a final newline."""
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


# -- commands, reads, fetches, searches ----------------------------------------------------------


def _commands(commands: Any, paths: _Paths) -> ToolView | None:
    lines = [_short(c if isinstance(c, str) else _get(c, "command")) for c in _items(commands)]
    lines = [line for line in lines if line]
    if not lines:
        return None
    quoted = ", ".join(f"`{line}`" for line in lines)
    details = (*(f"$ {line}" for line in lines), f"in {paths.show_folder()}")
    return ToolView(f"run {quoted}", details)


def _reads(files: Any, paths: _Paths) -> ToolView | None:
    shown = []
    for entry in _items(files):
        path = entry if isinstance(entry, str) else _get(entry, "path")
        if not path:
            continue
        start, end = _get_int(entry, "start_line"), _get_int(entry, "end_line")
        lines = f" (lines {start or 1}-{end})" if end else f" (from line {start})" if start else ""
        shown.append(paths.show(path) + lines)
    if not shown:
        return None
    return ToolView(f"read {', '.join(shown)}", tuple(shown) if len(shown) > 1 else ())


def _fetches(requests: Any) -> ToolView | None:
    urls = [_short(r if isinstance(r, str) else _get(r, "url")) for r in _items(requests)]
    urls = [url for url in urls if url]
    if not urls:
        return None
    return ToolView(f"fetch {', '.join(urls)}", tuple(urls))


def _searches(queries: Any) -> ToolView | None:
    texts = [_short(q if isinstance(q, str) else _get(q, "query")) for q in _items(queries)]
    texts = [text for text in texts if text]
    if not texts:
        return None
    return ToolView("search for " + ", ".join(f"`{text}`" for text in texts))


def _fallback(event: Mapping[str, Any], tool: str) -> ToolView:
    title = _short(_get(event, "title"))
    if title:
        return ToolView(title)
    kind = event.get("toolKind")
    verb = _KIND_VERBS.get(kind, "") if isinstance(kind, str) else ""
    return ToolView(f"use {_short(tool)}" if tool else (verb or "use a tool"))


# -- helpers ------------------------------------------------------------------------------------


class _Paths:
    """Paths as shown from ``cwd``, and the files an edit changes, read within bounds."""

    def __init__(self, cwd: str, task_folder: str) -> None:
        self.cwd = cwd
        self.task_folder = task_folder

    def show(self, path: str) -> str:
        path = _clean(path)
        if not os.path.isabs(path):
            return path
        try:
            relative = os.path.relpath(path, self.cwd)
        except ValueError:  # another drive (Windows)
            return path
        outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
        return path if outside else relative

    def show_folder(self) -> str:
        """The folder the task's commands run in, in full: a command line means little
        without it."""
        return _clean(self.task_folder)

    def exists(self, path: str) -> bool:
        return os.path.lexists(self._resolve(path))

    def read(self, path: str) -> str | None:
        """The file's text, if it is a regular file of at most ``FILE_LIMIT`` bytes."""
        resolved = self._resolve(path)
        if not os.path.isfile(resolved):  # before opening it: a named pipe would block the open
            return None
        try:
            with open(resolved, "rb") as file:
                if os.fstat(file.fileno()).st_size > FILE_LIMIT:
                    return None
                data = file.read(FILE_LIMIT + 1)
        except OSError:
            return None
        if len(data) > FILE_LIMIT:
            return None
        return data.decode("utf-8", errors="replace").replace("\r\n", "\n")

    def _resolve(self, path: str) -> str:
        return path if os.path.isabs(path) else os.path.join(self.task_folder, path)


def _items(value: Any) -> Sequence[Any]:
    if isinstance(value, (str, Mapping)):
        return [value]
    return value if isinstance(value, list) else []


def _get(entry: Any, key: str) -> str:
    value = entry.get(key) if isinstance(entry, Mapping) else None
    return value if isinstance(value, str) else ""


def _get_int(entry: Any, key: str) -> int | None:
    value = entry.get(key) if isinstance(entry, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _short(text: str) -> str:
    """A value as one clean line of at most ``TEXT_LIMIT`` characters."""
    line = " ".join(_clean(text).split())
    return line if len(line) <= TEXT_LIMIT else line[: TEXT_LIMIT - 3] + "..."


def _clean(text: str) -> str:
    """Controls (but tab) and reordering marks made visible as ``?``: a file or a model cannot
    drive the terminal, nor make a line read otherwise than it is."""
    return _CONTROL.sub("?", text)


def cut(lines: Iterable[str], limit: int) -> tuple[list[str], int]:
    """The first ``limit`` lines, and how many more there are."""
    kept = list(lines)
    return kept[:limit], max(0, len(kept) - limit)
