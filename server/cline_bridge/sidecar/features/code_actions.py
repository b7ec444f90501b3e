"""Code actions that hand a piece of code to Cline: explain it, fix it, improve it.

Editors without a Cline panel (the ACP host) get three code actions for any range. None of them
edits anything: each carries a ``clineBridge.startNewTask`` command whose prompt quotes the file,
the lines, the text and, for "fix", the diagnostics the editor sent, so choosing one starts a Cline
task exactly as typing that prompt would. Any other host offers none: the VS Code client has
Cline's own panel and its own code actions, and without a host there is nothing to run a task.

The prompt is built by pure functions (``build_prompt``, ``excerpt_from``) so that its wording is
tested without an editor.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from cline_bridge.wire import names

if TYPE_CHECKING:
    from cline_bridge.sidecar.features import Sidecar

logger = logging.getLogger(__name__)

ACP_HOST = "acp"
MAX_TEXT_CHARS = 20_000
"""The most characters of code a prompt quotes; Cline can read the rest from the file."""
MAX_DIAGNOSTICS = 50
MAX_FILE_BYTES = 4 * 1024 * 1024
"""How much of a file that is not open in the editor is read to find the lines."""


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    kind: str


# Kinds, chosen for how editors list and filter them. "fix" is a `quickfix` and "improve" a
# `refactor.rewrite`: Helix sorts by these, and Sublime's `only_kinds`, Neovim's `context.only` and
# eglot's `eglot-code-action-quickfix` / `-rewrite` (from Eglot 1.15; before, they do nothing, and
# `eglot-code-actions` lists every action) select them. Plain kinds rather
# than sub-kinds (`quickfix.cline`): older eglot re-filters the answer by exact kind (its #847).
# Explaining changes no code, so it is in no category: the empty kind, which only the unfiltered
# menu shows (a kind is still sent, as eglot's prefix filter fails on an action without one).
EXPLAIN = Action("explain", "Cline: explain", types.CodeActionKind.Empty.value)
FIX = Action("fix", "Cline: fix", types.CodeActionKind.QuickFix.value)
IMPROVE = Action("improve", "Cline: improve", types.CodeActionKind.RefactorRewrite.value)
ACTIONS = (EXPLAIN, FIX, IMPROVE)
KINDS = [types.CodeActionKind(action.kind) for action in ACTIONS]


@dataclass(frozen=True)
class Excerpt:
    """The code a prompt is about: where it is and, when it could be read, its text."""

    path: str
    first_line: int
    """1-based, inclusive."""
    last_line: int
    """1-based, inclusive."""
    language_id: str | None = None
    text: str | None = None
    unreadable: str | None = None
    """Why ``text`` is missing (the file could not be read), for the prompt."""


# --- the prompt (pure) ---------------------------------------------------------------------------


def build_prompt(
    action: Action,
    excerpt: Excerpt,
    diagnostics: Sequence[types.Diagnostic] = (),
    max_chars: int = MAX_TEXT_CHARS,
) -> str:
    """The task text for ``action`` on ``excerpt``; ``diagnostics`` are used by "fix" only."""
    where = f"`{excerpt.path}`, {_lines(excerpt)}"
    if excerpt.language_id:
        where += f" ({excerpt.language_id})"
    if action.name == EXPLAIN.name:
        opening = (
            f"Explain the code below, from {where}: what it does, how it does it, and anything "
            "surprising or risky in it. Do not change any files."
        )
        closing = ""
    elif action.name == FIX.name and diagnostics:
        opening = f"Fix the problems the editor reports in the code below, from {where}."
        opening += "\n\nDiagnostics:\n" + _diagnostic_list(diagnostics)
        closing = "Make the smallest change that fixes them, then say what you changed and why."
    elif action.name == FIX.name:
        opening = (
            f"Find and fix the bug in the code below, from {where}. The editor reports no "
            "diagnostics for it."
        )
        closing = "Make the smallest change that fixes it, then say what you changed and why."
    elif action.name == IMPROVE.name:
        opening = (
            f"Improve the code below, from {where}: make it clearer, simpler or more robust "
            "without changing what it does."
        )
        closing = "Keep the change to these lines where you can, then say what you changed and why."
    else:
        raise ValueError(f"unknown code action {action.name!r}")
    parts = [opening, _quote(excerpt, max_chars)]
    if closing:
        parts.append(closing)
    return "\n\n".join(parts)


def _lines(excerpt: Excerpt) -> str:
    if excerpt.first_line == excerpt.last_line:
        return f"line {excerpt.first_line}"
    return f"lines {excerpt.first_line}-{excerpt.last_line}"


def _quote(excerpt: Excerpt, max_chars: int) -> str:
    if excerpt.text is None:
        reason = excerpt.unreadable or "the editor did not send it"
        return f"(The text of these lines could not be read here: {reason}. Read it from the file.)"
    text = excerpt.text
    note = ""
    if len(text) > max_chars:
        note = (
            f"\n\n(Cut: the selection has {len(text)} characters and only the first {max_chars} "
            "are quoted. Read the rest from the file.)"
        )
        text = text[:max_chars]
    # A fence longer than any run of backticks in the code, so that the code cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{excerpt.language_id or ''}\n{body}{fence}{note}"


def _diagnostic_list(diagnostics: Sequence[types.Diagnostic]) -> str:
    ordered = sorted(diagnostics, key=lambda d: (d.range.start.line, d.range.start.character))
    lines = [_diagnostic_line(diagnostic) for diagnostic in ordered[:MAX_DIAGNOSTICS]]
    if len(ordered) > MAX_DIAGNOSTICS:
        lines.append(f"- ... and {len(ordered) - MAX_DIAGNOSTICS} more")
    return "\n".join(lines)


def _diagnostic_line(diagnostic: types.Diagnostic) -> str:
    label = [f"line {diagnostic.range.start.line + 1}"]
    if diagnostic.severity is not None:
        label.append(diagnostic.severity.name.lower())
    origin = diagnostic.source or ""
    if diagnostic.code is not None:
        origin += f" [{diagnostic.code}]" if origin else f"[{diagnostic.code}]"
    if origin:
        label.append(origin)
    message = "\n  ".join(line.rstrip() for line in diagnostic.message.strip().splitlines())
    return f"- {', '.join(label)}: {message}"


# --- the code: where it is and what it says ------------------------------------------------------


def line_span(selection: types.Range) -> tuple[int, int]:
    """The 1-based, inclusive lines of ``selection``; an empty range is its line.

    A selection ending at the start of a line (a whole-line selection) does not include that line.
    """
    first = selection.start.line + 1
    last = selection.end.line + 1
    if selection.end.character == 0 and selection.end.line > selection.start.line:
        last -= 1
    return first, max(first, last)


def excerpt_from(
    document: TextDocument, selection: types.Range, path: str, language_id: str | None
) -> Excerpt:
    """The text of ``selection`` in ``document``, or of its line when the range is empty."""
    first, last = line_span(selection)
    if selection.start == selection.end:
        lines = document.lines
        index = selection.start.line
        text = lines[index].rstrip("\r\n") if index < len(lines) else ""
    else:
        # pygls converts the positions from the client's encoding and may adjust them in place.
        text = document.text_in_client_range(
            types.Range(
                start=types.Position(selection.start.line, selection.start.character),
                end=types.Position(selection.end.line, selection.end.character),
            )
        )
    return Excerpt(path, first, last, language_id, text)


def kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether an action of ``kind`` passes the request's ``context.only`` filter.

    Kinds are hierarchical: ``refactor`` admits ``refactor.rewrite``. The empty kind is admitted
    only by an empty entry, since it belongs to no category.
    """
    if not only:
        return True
    return any(kind == wanted or (wanted and kind.startswith(wanted + ".")) for wanted in only)


def choose_actions(params: types.CodeActionParams) -> list[Action]:
    """The actions to offer for this request."""
    context = params.context
    actions = [action for action in ACTIONS if kind_wanted(action.kind, context.only)]
    automatic = context.trigger_kind == types.CodeActionTriggerKind.Automatic
    if automatic and params.range.start == params.range.end:
        # The editor asks on its own as the cursor moves (to show a light bulb): offering the
        # three everywhere would light it on every line. Offer them for a real selection, or
        # "fix" where there is something to fix.
        actions = [FIX] if FIX in actions and context.diagnostics else []
    return actions


# --- the LSP feature -----------------------------------------------------------------------------


def register(sidecar: Sidecar) -> None:
    """Register ``textDocument/codeAction``; it offers actions for the ACP host."""

    @sidecar.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS)
    )
    async def code_action(
        params: types.CodeActionParams,
    ) -> list[types.CodeAction | types.Command] | None:
        # The server comes from the closure: pygls passes it only to a parameter named `ls` or
        # annotated with its class, which features do not import.
        if sidecar.host.name != ACP_HOST:
            return None
        actions = choose_actions(params)
        if not actions:
            return None
        excerpt = await _read_excerpt(sidecar, params.text_document.uri, params.range)
        logger.debug(
            "code actions for %s lines %d-%d: %s",
            excerpt.path,
            excerpt.first_line,
            excerpt.last_line,
            ", ".join(action.name for action in actions),
        )
        diagnostics = list(params.context.diagnostics)
        literals = _client_takes_literals(sidecar)
        offered: list[types.CodeAction | types.Command] = []
        for action in actions:
            prompt = build_prompt(action, excerpt, diagnostics if action is FIX else ())
            command = types.Command(
                title=action.title, command=names.CMD_START_NEW_TASK, arguments=[prompt]
            )
            if not literals:  # such a client takes bare commands only (before LSP 3.8)
                offered.append(command)
                continue
            offered.append(
                types.CodeAction(
                    action.title,
                    kind=types.CodeActionKind(action.kind),
                    diagnostics=diagnostics if action is FIX and diagnostics else None,
                    command=command,
                )
            )
        return offered


async def _read_excerpt(sidecar: Sidecar, uri: str, selection: types.Range) -> Excerpt:
    path = to_fs_path(uri) or uri
    document = sidecar.workspace.text_documents.get(unquote(uri))  # pygls's key for it
    if document is None:
        # Not open in the editor: read the file (off the event loop, and only its start).
        try:
            source = await asyncio.to_thread(_read_start, path)
        except (OSError, ValueError) as error:
            first, last = line_span(selection)
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            return Excerpt(path, first, last, unreadable=reason)
        document = TextDocument(uri, source, position_codec=sidecar.workspace.position_codec)
    return excerpt_from(document, selection, path, document.language_id)


def _read_start(path: str) -> str:
    with open(path, "rb") as file:
        data = file.read(MAX_FILE_BYTES)
    return data.decode("utf-8", errors="replace")


def _client_takes_literals(sidecar: Sidecar) -> bool:
    text_document = sidecar.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    return bool(code_action and code_action.code_action_literal_support)
