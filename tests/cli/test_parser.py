"""The command line's parser: a run defines only its own subcommand, and help still reads well."""

from __future__ import annotations

import pytest

from cline_bridge.cli import main
from cline_bridge.cli.parser import build_parser

SUBCOMMANDS = ["serve", "task", "send", "approve", "reject", "status", "chat", "models"]


def subcommands(parser: object) -> list[str]:
    action = next(a for a in parser._subparsers._group_actions)  # type: ignore[attr-defined]
    return list(action.choices)


def test_a_run_defines_only_its_subcommand_and_help_defines_all() -> None:
    assert subcommands(build_parser("approve")) == ["approve"]
    assert subcommands(build_parser()) == SUBCOMMANDS
    assert subcommands(build_parser("--help")) == SUBCOMMANDS


def test_a_mistyped_subcommand_lists_every_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["aprove"])

    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'aprove'" in error
    assert all(f"'{name}'" in error for name in SUBCOMMANDS)


@pytest.mark.parametrize("columns", [50, 120])
def test_help_wraps_at_the_terminal_width(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit):
        main(["task", "--help"])

    lines = capsys.readouterr().out.splitlines()
    widest = max(len(line) for line in lines)
    assert widest <= columns - 2, "argparse's own margin"
    assert widest > min(columns - 2, 100) - 15, "and the width is used, not a fixed one"
