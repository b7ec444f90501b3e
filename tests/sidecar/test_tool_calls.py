"""Tool calls as task events name them: readable titles and kinds, for both hosts."""

from __future__ import annotations

from typing import Any

import pytest

from cline_bridge.sidecar.tool_calls import readable_title, title_tool, tool_kind, tool_title


def test_readable_titles_say_what_a_tool_does() -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: b/c.py\n*** End Patch"

    assert readable_title('apply_patch: {"input":"*** Begin', {"input": patch}) == (
        "apply_patch: add a.txt, update b/c.py"
    )
    assert readable_title('editor: {"path"', {"path": "x.py", "new_text": "y"}) == (
        "editor: write x.py"
    )
    assert readable_title('editor: {"path"', {"path": "x.py", "old_text": "a"}) == (
        "editor: edit x.py"
    )
    assert readable_title('read_files: {"files"', {"files": [{"path": "a"}, {"path": "b"}]}) == (
        "read_files: a, b"
    )
    # Titles that read well already, and inputs that say nothing plainly, are kept.
    assert (
        readable_title("run_commands: ls -la", {"commands": ["ls -la"]}) == "run_commands: ls -la"
    )
    assert (
        readable_title('apply_patch: {"input"', {"input": "no actions"}) == 'apply_patch: {"input"'
    )
    assert readable_title('mystery: {"a"', None) == 'mystery: {"a"'


@pytest.mark.parametrize(
    ("tool", "tool_input", "title"),
    [
        ("editor", {"path": "/w/hello.txt", "new_text": "hi"}, "editor: write /w/hello.txt"),
        ("editor", {"path": "a.py", "old_text": "x", "new_text": "y"}, "editor: edit a.py"),
        ("read_files", {"files": [{"path": "a"}, {"path": "b"}]}, "read_files: a, b"),
        ("run_commands", {"commands": ["ls -la", {"command": "pwd"}]}, "run_commands: ls -la; pwd"),
        (
            "apply_patch",
            {"input": "*** Begin Patch\n*** Delete File: old.py\n"},
            "apply_patch: delete old.py",
        ),
        ("ask_question", {"question": "Which?"}, "ask_question"),
        ("editor", "not an object", "editor"),
        ("run_commands", {"commands": []}, "run_commands"),
    ],
)
def test_the_extension_s_tool_calls_get_the_same_titles(
    tool: str, tool_input: Any, title: str
) -> None:
    assert tool_title(tool, tool_input) == title


def test_tool_kinds() -> None:
    assert [tool_kind(t) for t in ("editor", "apply_patch", "read_files", "run_commands")] == [
        "edit",
        "edit",
        "read",
        "execute",
    ]
    assert tool_kind("search_codebase") == "search"
    assert tool_kind("fetch_web_content") == "fetch"
    assert tool_kind("skills") == "other"


@pytest.mark.parametrize(
    ("title", "tool"),
    [
        ('editor: {"path":"/w/a.txt","new_text":"hi\\n"...', "editor"),
        ('apply_patch: {"input":"*** Begin Patch\\n...', "apply_patch"),
        ("run_commands: echo hi: there", "run_commands"),
        ("spawn_agent: {}", "spawn_agent"),
        ("my-server.tool_1: {}", "my-server.tool_1"),
        ("Write hello.txt", None),  # not Cline's "<tool>: <arguments>"
        ("Reading a file: a.txt", None),
        ("editor", None),
        (": nothing", None),
        ("", None),
    ],
)
def test_the_cli_s_title_names_the_tool(title: str, tool: str | None) -> None:
    assert title_tool(title) == tool
