"""The prompts of the code actions, and the choice of actions, without an editor."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.workspace import TextDocument

from cline_bridge.sidecar.features.code_actions import (
    ACTIONS,
    EXPLAIN,
    FIX,
    IMPROVE,
    MAX_DIAGNOSTICS,
    Excerpt,
    build_prompt,
    choose_actions,
    excerpt_from,
    kind_wanted,
    line_span,
)

EXCERPT = Excerpt("/work/app/calc.py", 3, 5, "python", "def add(a, b):\n    return a - b\n")


def span(start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    return types.Range(start=types.Position(*start), end=types.Position(*end))


def diagnostic(
    line: int,
    message: str,
    severity: types.DiagnosticSeverity | None = types.DiagnosticSeverity.Error,
    source: str | None = "pyright",
    code: int | str | None = None,
) -> types.Diagnostic:
    return types.Diagnostic(
        range=span((line, 0), (line, 4)),
        message=message,
        severity=severity,
        source=source,
        code=code,
    )


def params(
    selection: types.Range,
    only: list[types.CodeActionKind] | None = None,
    diagnostics: list[types.Diagnostic] | None = None,
    trigger: types.CodeActionTriggerKind | None = None,
) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri="file:///work/app/calc.py"),
        range=selection,
        context=types.CodeActionContext(
            diagnostics=diagnostics or [], only=only, trigger_kind=trigger
        ),
    )


# --- prompts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_every_prompt_names_the_file_the_lines_the_language_and_quotes_the_code(
    action: object,
) -> None:
    prompt = build_prompt(action, EXCERPT)  # type: ignore[arg-type]

    assert "`/work/app/calc.py`, lines 3-5 (python)" in prompt
    assert "```python\ndef add(a, b):\n    return a - b\n```" in prompt


def test_explain_asks_for_an_explanation_and_no_change() -> None:
    prompt = build_prompt(EXPLAIN, EXCERPT)

    assert prompt.startswith("Explain the code below, from `/work/app/calc.py`")
    assert "Do not change any files." in prompt


def test_fix_lists_the_diagnostics_by_line_with_severity_source_and_code() -> None:
    diagnostics = [
        diagnostic(4, "Operator is wrong", types.DiagnosticSeverity.Warning, "mylint", "W1"),
        diagnostic(2, '"b" is not defined', code="reportUndefinedVariable"),
        diagnostic(3, "first line\nsecond line", None, None),
    ]

    prompt = build_prompt(FIX, EXCERPT, diagnostics)

    assert prompt.startswith("Fix the problems the editor reports in the code below")
    assert (
        "Diagnostics:\n"
        '- line 3, error, pyright [reportUndefinedVariable]: "b" is not defined\n'
        "- line 4: first line\n  second line\n"
        "- line 5, warning, mylint [W1]: Operator is wrong\n"
    ) in prompt
    assert prompt.endswith(
        "Make the smallest change that fixes them, then say what you changed and why."
    )


def test_fix_without_diagnostics_asks_to_find_the_bug() -> None:
    prompt = build_prompt(FIX, EXCERPT)

    assert prompt.startswith("Find and fix the bug in the code below")
    assert "reports no diagnostics" in prompt
    assert "Diagnostics:" not in prompt


def test_fix_lists_a_bounded_number_of_diagnostics() -> None:
    diagnostics = [diagnostic(0, f"problem {n}") for n in range(MAX_DIAGNOSTICS + 7)]

    prompt = build_prompt(FIX, EXCERPT, diagnostics)

    assert prompt.count("problem ") == MAX_DIAGNOSTICS
    assert "- ... and 7 more" in prompt


def test_only_fix_uses_the_diagnostics() -> None:
    diagnostics = [diagnostic(2, "unique-diagnostic-text")]

    assert "unique-diagnostic-text" not in build_prompt(IMPROVE, EXCERPT, diagnostics)
    assert "unique-diagnostic-text" not in build_prompt(EXPLAIN, EXCERPT, diagnostics)


def test_improve_asks_to_keep_the_behaviour() -> None:
    prompt = build_prompt(IMPROVE, EXCERPT)

    assert "without changing what it does" in prompt


def test_a_single_line_and_an_unknown_language() -> None:
    prompt = build_prompt(EXPLAIN, Excerpt("/a/b.txt", 7, 7, None, "hello"))

    assert "`/a/b.txt`, line 7:" in prompt
    assert "```\nhello\n```" in prompt


def test_long_text_is_cut_and_the_prompt_says_so() -> None:
    prompt = build_prompt(EXPLAIN, Excerpt("/a.py", 1, 900, "python", "x" * 120), max_chars=100)

    assert "x" * 100 + "\n```" in prompt
    assert "x" * 101 not in prompt
    assert "the selection has 120 characters and only the first 100 are quoted" in prompt


def test_code_with_backticks_gets_a_longer_fence() -> None:
    text = 'doc = """\n```sh\nls\n```\n"""'

    prompt = build_prompt(EXPLAIN, Excerpt("/a.py", 1, 5, "python", text))

    assert f"````python\n{text}\n````" in prompt


def test_unreadable_text_is_reported_and_the_location_kept() -> None:
    prompt = build_prompt(
        IMPROVE, Excerpt("/gone.py", 2, 3, unreadable="No such file or directory")
    )

    assert "`/gone.py`, lines 2-3" in prompt
    assert "could not be read here: No such file or directory" in prompt
    assert "```" not in prompt


# --- the code of a range -------------------------------------------------------------------------

SOURCE = "first line\nsecond line\nthird line\n"


def test_a_range_is_quoted_exactly() -> None:
    document = TextDocument("file:///x.py", SOURCE)

    excerpt = excerpt_from(document, span((0, 6), (1, 6)), "/x.py", "python")

    assert excerpt == Excerpt("/x.py", 1, 2, "python", "line\nsecond")


def test_an_empty_range_quotes_its_whole_line() -> None:
    document = TextDocument("file:///x.py", SOURCE)

    excerpt = excerpt_from(document, span((1, 3), (1, 3)), "/x.py", None)

    assert (excerpt.first_line, excerpt.last_line, excerpt.text) == (2, 2, "second line")


def test_an_empty_range_past_the_end_quotes_nothing() -> None:
    document = TextDocument("file:///x.py", SOURCE)

    assert excerpt_from(document, span((9, 0), (9, 0)), "/x.py", None).text == ""


def test_positions_are_in_utf16_units() -> None:
    document = TextDocument("file:///x.py", 'a = "😋 b"\n')

    # The emoji takes two UTF-16 units: "b" is at unit 8.
    assert excerpt_from(document, span((0, 5), (0, 9)), "/x.py", None).text == "😋 b"


def test_whole_line_selections_end_on_their_last_line() -> None:
    assert line_span(span((1, 0), (3, 0))) == (2, 3)
    assert line_span(span((1, 0), (3, 2))) == (2, 4)
    assert line_span(span((4, 2), (4, 2))) == (5, 5)
    assert line_span(span((4, 0), (4, 0))) == (5, 5)


# --- which actions -------------------------------------------------------------------------------

QUICKFIX = types.CodeActionKind.QuickFix
REFACTOR = types.CodeActionKind.Refactor
REWRITE = types.CodeActionKind.RefactorRewrite
SOURCE_KIND = types.CodeActionKind.Source


def test_the_kinds() -> None:
    assert (EXPLAIN.kind, FIX.kind, IMPROVE.kind) == ("", "quickfix", "refactor.rewrite")
    assert [action.title for action in ACTIONS] == [
        "Cline: explain",
        "Cline: fix",
        "Cline: improve",
    ]


@pytest.mark.parametrize(
    ("kind", "only", "wanted"),
    [
        ("quickfix", None, True),
        ("quickfix", [], True),
        ("quickfix", ["quickfix"], True),
        ("refactor.rewrite", ["refactor"], True),
        ("refactor.rewrite", ["refactor.rewrite"], True),
        ("refactor.rewrite", ["refactor.extract"], False),
        ("refactor.rewrite", ["refactor.re"], False),
        ("quickfix", ["source", "refactor"], False),
        ("", ["quickfix"], False),
        ("", [""], True),
        ("quickfix", [""], False),
    ],
)
def test_kind_filter(kind: str, only: list[str] | None, wanted: bool) -> None:
    assert kind_wanted(kind, only) is wanted


def test_all_three_without_a_filter() -> None:
    assert choose_actions(params(span((0, 0), (0, 0)))) == [EXPLAIN, FIX, IMPROVE]


@pytest.mark.parametrize(
    ("only", "expected"),
    [
        ([QUICKFIX], [FIX]),
        ([REFACTOR], [IMPROVE]),
        ([REWRITE, QUICKFIX], [FIX, IMPROVE]),
        ([SOURCE_KIND], []),
        ([types.CodeActionKind.Empty], [EXPLAIN]),
    ],
)
def test_context_only_filters(only: list[types.CodeActionKind], expected: list[object]) -> None:
    assert choose_actions(params(span((0, 0), (2, 0)), only=only)) == expected


def test_automatic_requests_at_a_cursor_offer_fix_only_for_diagnostics() -> None:
    automatic = types.CodeActionTriggerKind.Automatic
    cursor = span((3, 1), (3, 1))

    assert choose_actions(params(cursor, trigger=automatic)) == []
    assert choose_actions(params(cursor, diagnostics=[diagnostic(3, "x")], trigger=automatic)) == [
        FIX
    ]
    assert choose_actions(params(span((3, 1), (4, 0)), trigger=automatic)) == list(ACTIONS)
    invoked = types.CodeActionTriggerKind.Invoked
    assert choose_actions(params(cursor, trigger=invoked)) == list(ACTIONS)
