"""What a followed task shows of a tool call: its one-line summary, and for an approval the
details and the diff a person judges it by (``cline_bridge.cli.tool_view``)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.cli import tool_view
from cline_bridge.cli.tool_view import ToolView, cut, preview, summarize, tool_name

TIMEOUT = 10
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
"""What must never reach the terminal from a tool call (a tab may)."""


def editor(path: str | Path, **arguments: Any) -> dict[str, Any]:
    return {"kind": "approval", "tool": "editor", "input": {"path": str(path), **arguments}}


def patch(*lines: str) -> dict[str, Any]:
    text = "\n".join(["*** Begin Patch", *lines, "*** End Patch"])
    return {"kind": "approval", "tool": "apply_patch", "input": {"input": text}}


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"kind": "toolCall", "tool": tool, "input": arguments}


def shown(view: ToolView) -> list[str]:
    """Every line the view puts on the terminal."""
    return [view.summary, *view.details, *view.diff]


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """The folder ``task --follow`` runs in, with a three-line ``a.txt``."""
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    return tmp_path


# -- editor ------------------------------------------------------------------------------------


def test_a_new_file_is_a_creation_with_all_its_lines_added(cwd: Path) -> None:
    view = preview(
        editor(cwd / "src" / "new.py", new_text="import os\n\nprint(os.sep)\n"), str(cwd)
    )

    assert view == ToolView(
        "create src/new.py",
        diff=(
            "--- /dev/null",
            "+++ src/new.py",
            "@@ -0,0 +1,3 @@",
            "+import os",
            "+",
            "+print(os.sep)",
        ),
    )


def test_an_empty_new_file_has_only_the_diff_headers(cwd: Path) -> None:
    view = preview(editor(cwd / "empty.txt", new_text=""), str(cwd))

    assert view == ToolView("create empty.txt", diff=("--- /dev/null", "+++ empty.txt"))


def test_a_replacement_found_once_is_diffed_against_the_file_on_disk(cwd: Path) -> None:
    view = preview(editor(cwd / "a.txt", old_text="two", new_text="TWO\n2"), str(cwd))

    assert view == ToolView(
        "edit a.txt",
        diff=(
            "--- a.txt",
            "+++ a.txt",
            "@@ -1,3 +1,4 @@",
            " one",
            "-two",
            "+TWO",
            "+2",
            " three",
        ),
    )


def test_a_replacement_matches_a_file_with_crlf_line_ends(cwd: Path) -> None:
    (cwd / "dos.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")

    view = preview(editor(cwd / "dos.txt", old_text="one\ntwo", new_text="1\n2"), str(cwd))

    assert view.details == ()
    assert view.diff[2:] == ("@@ -1,3 +1,3 @@", "-one", "-two", "+1", "+2", " three")


@pytest.mark.parametrize(
    ("content", "old_text"),
    [("one\ntwo\n", "missing"), ("same\nsame\n", "same")],
    ids=["absent", "twice"],
)
def test_a_replacement_not_found_exactly_once_is_shown_as_a_fragment_with_a_note(
    cwd: Path, content: str, old_text: str
) -> None:
    (cwd / "b.txt").write_text(content)

    view = preview(editor(cwd / "b.txt", old_text=old_text, new_text="new"), str(cwd))

    assert view == ToolView(
        "edit b.txt",
        ("(the text to replace is not in the file once: Cline will refuse the edit)",),
        ("--- b.txt", "+++ b.txt", "@@ -1 +1 @@", f"-{old_text}", "+new"),
    )


def test_a_replacement_in_a_missing_file_says_it_cannot_be_read(cwd: Path) -> None:
    view = preview(editor(cwd / "gone.txt", old_text="a", new_text="b"), str(cwd))

    assert view.summary == "edit gone.txt"
    assert view.details == (
        "(the file cannot be read here: the diff is of the replaced text alone)",
    )
    assert view.diff[2:] == ("@@ -1 +1 @@", "-a", "+b")


@pytest.mark.parametrize(
    ("line", "diff"),
    [
        (0, ("@@ -1,3 +1,4 @@", "+new", " one", " two", " three")),
        (1, ("@@ -1,3 +1,4 @@", " one", "+new", " two", " three")),
        (3, ("@@ -1,3 +1,4 @@", " one", " two", " three", "+new")),
        (99, ("@@ -1,3 +1,4 @@", " one", " two", " three", "+new")),
    ],
)
def test_an_insertion_goes_after_the_line_it_names(
    cwd: Path, line: int, diff: tuple[str, ...]
) -> None:
    view = preview(editor(cwd / "a.txt", insert_line=line, new_text="new"), str(cwd))

    assert view == ToolView("edit a.txt", diff=("--- a.txt", "+++ a.txt", *diff))


def test_an_insertion_after_a_last_line_without_newline_adds_a_line(cwd: Path) -> None:
    (cwd / "open.txt").write_text("one\ntwo")

    view = preview(editor(cwd / "open.txt", insert_line=2, new_text="three\n"), str(cwd))

    assert view.diff[2:] == ("@@ -1,2 +1,3 @@", " one", " two", "+three")


def test_an_insertion_into_an_unreadable_file_says_where_it_goes(cwd: Path) -> None:
    view = preview(editor(cwd / "gone.txt", insert_line=4, new_text="x"), str(cwd))

    assert view.details == ("(insert after line 4; the file cannot be read here)",)
    assert view.diff[2:] == ("@@ -0,0 +1 @@", "+x")


def test_writing_over_an_existing_file_is_diffed_against_it(cwd: Path) -> None:
    view = preview(editor(cwd / "a.txt", new_text="one\n2\nthree\n"), str(cwd))

    assert view == ToolView(
        "overwrite a.txt",
        diff=("--- a.txt", "+++ a.txt", "@@ -1,3 +1,3 @@", " one", "-two", "+2", " three"),
    )


def test_a_file_larger_than_the_limit_is_not_read(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool_view, "FILE_LIMIT", 8)
    (cwd / "big.txt").write_text("0123456789\n")
    (cwd / "small.txt").write_text("01234567")

    over = preview(editor(cwd / "big.txt", new_text="x\n"), str(cwd))
    replace = preview(editor(cwd / "big.txt", old_text="0123", new_text="x"), str(cwd))
    at_limit = preview(editor(cwd / "small.txt", new_text="x\n"), str(cwd))

    assert over == ToolView(
        "overwrite big.txt",
        ("(replaces the whole file, which cannot be read here)",),
        ("--- /dev/null", "+++ big.txt", "@@ -0,0 +1 @@", "+x"),
    )
    assert replace.details == (
        "(the file cannot be read here: the diff is of the replaced text alone)",
    )
    assert replace.diff[2:] == ("@@ -1 +1 @@", "-0123", "+x")
    assert at_limit.details == ()
    assert at_limit.diff[2:] == ("@@ -1 +1 @@", "-01234567", "+x")


def test_a_folder_in_place_of_the_file_is_not_read(cwd: Path) -> None:
    (cwd / "folder").mkdir()

    view = preview(editor(cwd / "folder", new_text="x"), str(cwd))

    assert view.summary == "overwrite folder"
    assert view.details == ("(replaces the whole file, which cannot be read here)",)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_place_of_the_file_does_not_block_the_preview(cwd: Path) -> None:
    fifo = cwd / "fifo"
    os.mkfifo(fifo)
    views: list[ToolView] = []
    worker = threading.Thread(
        target=lambda: views.append(preview(editor(fifo, new_text="x"), str(cwd))), daemon=True
    )

    worker.start()
    worker.join(TIMEOUT)
    blocked = worker.is_alive()
    if blocked:  # stuck opening the pipe: a writer lets it go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(TIMEOUT)

    assert not blocked
    assert [view.details for view in views] == [
        ("(replaces the whole file, which cannot be read here)",)
    ]


def test_no_diff_is_computed_beyond_the_line_limit(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool_view, "DIFF_LINE_LIMIT", 3)
    (cwd / "long.txt").write_text("1\n2\n3\n4\n")

    long_file = preview(editor(cwd / "long.txt", old_text="4", new_text="four"), str(cwd))
    long_edit = preview(editor(cwd / "a.txt", old_text="two", new_text="2\n2\n2"), str(cwd))
    at_limit = preview(editor(cwd / "a.txt", old_text="two", new_text="2"), str(cwd))

    assert long_file.diff == ("(too large to show: 4 lines before, 4 after)",)
    assert long_edit.diff == ("(too large to show: 3 lines before, 5 after)",)
    assert at_limit.diff[2:] == ("@@ -1,3 +1,3 @@", " one", "-two", "+2", " three")


def test_the_summary_reads_no_file(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"summarize opened {args}")

    monkeypatch.setattr(tool_view, "open", no_open, raising=False)
    a_txt = cwd / "a.txt"

    summaries = [
        summarize(editor(a_txt, old_text="two", new_text="2"), str(cwd)),
        summarize(editor(a_txt, insert_line=1, new_text="x"), str(cwd)),
        summarize(editor(a_txt, new_text="x"), str(cwd)),
        summarize(editor(cwd / "new.txt", new_text="x"), str(cwd)),
        summarize(patch(f"*** Update File: {a_txt}", "-two", "+2"), str(cwd)),
    ]

    assert summaries == [
        "edit a.txt",
        "edit a.txt",
        "overwrite a.txt",
        "create new.txt",
        "edit a.txt",
    ]
    with pytest.raises(AssertionError, match="summarize opened"):
        preview(editor(a_txt, new_text="x"), str(cwd))


# -- apply_patch --------------------------------------------------------------------------------


def test_a_patch_that_adds_a_file_is_a_creation(cwd: Path) -> None:
    view = preview(patch(f"*** Add File: {cwd}/b.py", "+x = 1", "+", "+y = 2"), str(cwd))

    assert view == ToolView(
        "create b.py",
        diff=("--- /dev/null", "+++ b.py", "@@ -0,0 +1,3 @@", "+x = 1", "+", "+y = 2"),
    )


def test_a_patch_that_updates_a_file_is_its_diff_against_the_file(cwd: Path) -> None:
    (cwd / "a.txt").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    view = preview(
        patch(
            f"*** Update File: {cwd}/a.txt",
            "@@ line 9",  # an anchor: the hunk comes after it
            " line 10",
            "-line 11",
            "+LINE 11",
            "line 12",  # context without its space
            "@@",
            "-line 15  ",  # trailing blanks the model added
            "+LINE 15",
            "*** End of File",
        ),
        str(cwd),
    )

    assert view == ToolView(
        "edit a.txt",
        diff=(
            "--- a.txt",
            "+++ a.txt",
            "@@ -8,11 +8,11 @@",
            " line 8",
            " line 9",
            " line 10",
            "-line 11",
            "+LINE 11",
            " line 12",
            " line 13",
            " line 14",
            "-line 15",
            "+LINE 15",
            " line 16",
            " line 17",
            " line 18",
        ),
    )


def test_a_patch_that_does_not_match_the_file_is_shown_as_written(cwd: Path) -> None:
    view = preview(
        patch(f"*** Update File: {cwd}/a.txt", "@@", "-zwei", "+TWO", " three"), str(cwd)
    )
    missing = preview(patch(f"*** Update File: {cwd}/gone.txt", "@@", "-x", "+y"), str(cwd))

    assert view == ToolView(
        "edit a.txt",
        ("(the changes to a.txt do not match it as it is now: shown as written)",),
        ("--- a.txt", "+++ a.txt", "@@", "-zwei", "+TWO", " three"),
    )
    assert missing.diff == ("--- gone.txt", "+++ gone.txt", "@@", "-x", "+y")


def test_a_patch_that_deletes_or_moves_a_file_says_so(cwd: Path) -> None:
    deleted = preview(patch(f"*** Delete File: {cwd}/a.txt"), str(cwd))
    moved = preview(
        patch(f"*** Update File: {cwd}/a.txt", f"*** Move to: {cwd}/lib/b.txt", "@@", " one"),
        str(cwd),
    )

    assert deleted == ToolView(
        "delete a.txt",
        diff=("--- a.txt", "+++ /dev/null", "@@ -1,3 +0,0 @@", "-one", "-two", "-three"),
    )
    assert moved == ToolView("edit a.txt (to lib/b.txt)", diff=("--- a.txt", "+++ lib/b.txt"))


def test_a_patch_of_several_files_names_each_in_order(cwd: Path) -> None:
    view = preview(
        patch(
            "*** Add File: new.txt",
            "+hello",
            f"*** Update File: {cwd}/a.txt",
            f"*** Move to: {cwd}/c.txt",
            "@@",
            "-two",
            "+2",
            "*** Delete File: old.txt",
            "*** Add File: empty.txt",
        ),
        str(cwd),
    )

    assert view.summary == "create new.txt, edit a.txt (to c.txt), delete old.txt, create empty.txt"
    assert view.diff == (
        "--- /dev/null",
        "+++ new.txt",
        "@@ -0,0 +1 @@",
        "+hello",
        "--- a.txt",
        "+++ c.txt",
        "@@ -1,3 +1,3 @@",
        " one",
        "-two",
        "+2",
        " three",
        "--- old.txt",
        "+++ /dev/null",
        "--- /dev/null",
        "+++ empty.txt",
    )
    assert summarize(patch("*** Add File: new.txt", "+hello"), str(cwd)) == "create new.txt"


def test_a_patch_without_a_file_falls_back_to_the_title(cwd: Path) -> None:
    event = {**patch("no sections here"), "title": "apply_patch: something"}

    assert preview(event, str(cwd)) == ToolView("apply_patch: something")


# -- commands, reads, fetches, searches -----------------------------------------------------------


def test_a_command_is_shown_with_the_folder_it_runs_in(cwd: Path) -> None:
    event = call("run_commands", commands=["pytest -q"])

    assert preview(event, str(cwd), "/srv/task") == ToolView(
        "run `pytest -q`", ("$ pytest -q", "in /srv/task")
    )
    assert preview(event, str(cwd)) == ToolView("run `pytest -q`", ("$ pytest -q", f"in {cwd}"))
    assert summarize(event, str(cwd)) == "run `pytest -q`"


def test_several_commands_in_either_form_are_each_shown(cwd: Path) -> None:
    event = call("run_commands", commands=["ls -la", {"command": "git  status"}, {"x": 1}, ""])

    assert preview(event, str(cwd), "/w") == ToolView(
        "run `ls -la`, `git status`", ("$ ls -la", "$ git status", "in /w")
    )
    assert summarize(call("run_commands", commands="make"), str(cwd)) == "run `make`"


def test_a_long_command_is_cut_at_the_text_limit(cwd: Path) -> None:
    command = "echo " + "x" * (2 * tool_view.TEXT_LIMIT)

    view = preview(call("run_commands", commands=[command]), str(cwd))

    assert view.details[0] == "$ " + command[: tool_view.TEXT_LIMIT - 3] + "..."
    assert view.summary == f"run `{command[: tool_view.TEXT_LIMIT - 3]}...`"
    exact = "y" * tool_view.TEXT_LIMIT
    assert summarize(call("run_commands", commands=[exact]), str(cwd)) == f"run `{exact}`"


def test_reads_name_their_files_and_line_ranges(cwd: Path) -> None:
    files = [
        {"path": str(cwd / "a.txt"), "start_line": 3, "end_line": 9},
        {"path": "b.py", "start_line": 4},
        {"path": "c.py", "end_line": 2},
        "d.py",
        {"start_line": 1},
    ]

    many = preview(call("read_files", files=files), str(cwd))
    one = preview(call("read_files", files=[{"path": str(cwd / "a.txt")}]), str(cwd))

    ranges = ("a.txt (lines 3-9)", "b.py (from line 4)", "c.py (lines 1-2)", "d.py")
    assert many == ToolView("read " + ", ".join(ranges), ranges)
    assert one == ToolView("read a.txt")


def test_fetches_name_their_urls(cwd: Path) -> None:
    requests = [{"url": "https://example.com/a", "prompt": "summarize"}, "https://b.org"]

    view = preview(call("fetch_web_content", requests=requests), str(cwd))

    assert view == ToolView(
        "fetch https://example.com/a, https://b.org", ("https://example.com/a", "https://b.org")
    )


def test_searches_quote_their_queries(cwd: Path) -> None:
    event = call("search_codebase", queries=["def main", {"query": "TODO"}])

    assert preview(event, str(cwd)) == ToolView("search for `def main`, `TODO`")


@pytest.mark.parametrize(
    ("event", "summary"),
    [
        ({"tool": "use_skill", "title": "use_skill: review", "input": {}}, "use_skill: review"),
        ({"tool": "use_skill", "input": {}}, "use use_skill"),
        ({"title": "mystery: {}", "toolKind": "execute"}, "mystery: {}"),
        ({"toolKind": "execute"}, "run"),
        ({"toolKind": "think"}, "think"),
        ({"toolKind": "other"}, "use a tool"),
        ({}, "use a tool"),
        ({"tool": "editor", "title": "editor: x"}, "editor: x"),
        ({"tool": "editor"}, "use editor"),
        ({"tool": "editor", "input": "not an object"}, "use editor"),
        ({"tool": "editor", "input": {"path": 3, "new_text": "x"}}, "use editor"),
        ({"tool": "apply_patch", "input": {"input": None}}, "use apply_patch"),
        ({"tool": "run_commands", "input": {"commands": []}}, "use run_commands"),
        ({"tool": "read_files", "input": {"files": [{}]}}, "use read_files"),
        ({"tool": "fetch_web_content", "input": {}}, "use fetch_web_content"),
        ({"tool": "search_codebase", "input": {"queries": [""]}}, "use search_codebase"),
    ],
)
def test_a_tool_or_an_input_not_understood_falls_back_to_what_the_event_says(
    cwd: Path, event: dict[str, Any], summary: str
) -> None:
    assert preview(event, str(cwd)) == ToolView(summary)
    assert summarize(event, str(cwd)) == summary


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ({"tool": "editor", "title": "run_commands: ls"}, "editor"),
        ({"title": "run_commands: ls -la"}, "run_commands"),
        ({"tool": "", "title": "read_files: a"}, "read_files"),
        ({"tool": 3, "title": "no tool here"}, "no tool here"),
        ({"title": None}, ""),
        ({}, ""),
    ],
)
def test_the_tool_is_named_by_the_event_else_by_its_title(event: dict[str, Any], name: str) -> None:
    assert tool_name(event) == name


def test_a_tool_named_only_by_the_title_is_understood(cwd: Path) -> None:
    event = {"title": "run_commands: ls", "input": {"commands": ["ls"]}}

    assert summarize(event, str(cwd)) == "run `ls`"


# -- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("{cwd}/a.txt", "a.txt"),
        ("{cwd}/src/deep/b.py", "src/deep/b.py"),
        ("{cwd}/..hidden", "..hidden"),
        ("{cwd}/sub/../b.py", "b.py"),
        ("{cwd}/../sibling.txt", "{cwd}/../sibling.txt"),
        ("{parent}/sibling.txt", "{parent}/sibling.txt"),
        ("/elsewhere/c.py", "/elsewhere/c.py"),
        ("relative/d.py", "relative/d.py"),
    ],
)
def test_paths_in_the_current_folder_are_relative_others_absolute(
    cwd: Path, path: str, expected: str
) -> None:
    values = {"cwd": str(cwd), "parent": str(cwd.parent)}

    summary = summarize(editor(path.format(**values), new_text="x"), str(cwd))

    assert summary.partition(" ")[2] == expected.format(**values)


def test_paths_are_relative_to_the_current_folder_not_the_task_folder(tmp_path: Path) -> None:
    task_folder, cwd = tmp_path / "task", tmp_path / "task" / "sub"
    cwd.mkdir(parents=True)
    event = call("read_files", files=[str(task_folder / "x.py"), str(cwd / "y.py")])

    assert preview(event, str(cwd), str(task_folder)).details == (f"{task_folder}/x.py", "y.py")


# -- what reaches the terminal -------------------------------------------------------------------

CONTROLS = ["\x1b[31m", "\r", "\x07", "\x9b2J", "\x00", "\x7f", "\n"]
"""An escape sequence, a carriage return, a bell, a C1 CSI, NUL, DEL and a newline."""


def visible(text: str) -> str:
    return CONTROL.sub("?", text)


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
def test_control_characters_in_arguments_are_shown_as_question_marks(
    cwd: Path, control: str
) -> None:
    evil = f"x{control}y"
    summaries = {
        "create": editor(cwd / evil, new_text="x"),
        "read": call("read_files", files=[{"path": evil, "start_line": 1}]),
        "run": call("run_commands", commands=[evil, {"command": evil}]),
        "fetch": call("fetch_web_content", requests=[{"url": evil}]),
        "search": call("search_codebase", queries=[evil]),
        "title": {"tool": "mystery", "title": f"mystery: {evil}"},
        "tool": {"tool": evil},
    }
    if control not in "\r\n":  # which would end the patch's line
        summaries["patch"] = patch(f"*** Add File: {evil}", "+x", f"*** Delete File: {evil}")

    views = {name: preview(event, str(cwd), f"/w/{evil}") for name, event in summaries.items()}

    for name, view in views.items():
        assert [line for line in shown(view) if CONTROL.search(line)] == [], name
        assert visible(evil) in view.summary, name
        assert summarize(summaries[name], str(cwd)) == view.summary, name
    assert views["run"].details == (
        f"$ {visible(evil)}",
        f"$ {visible(evil)}",
        f"in /w/{visible(evil)}",
    )


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
def test_control_characters_in_files_never_reach_the_terminal(cwd: Path, control: str) -> None:
    evil = f"x{control}y"
    (cwd / "evil.txt").write_text(f"one\n{evil}\n", newline="")
    events = [
        editor(cwd / "evil.txt", old_text=evil, new_text=f"new{control}"),
        editor(cwd / "evil.txt", old_text="absent", new_text=evil),
        editor(cwd / "evil.txt", insert_line=1, new_text=evil),
        editor(cwd / "evil.txt", new_text=evil),
        editor(cwd / "evil.new", new_text=evil),
    ]
    if control not in "\r\n":
        events.append(patch("*** Update File: evil.txt", f"-{evil}", f" {evil}", f"+{evil}"))

    diffs = [preview(event, str(cwd)).diff for event in events]

    for event, diff in zip(events, diffs, strict=True):
        assert len(diff) > 2, event
        assert [line for line in diff if CONTROL.search(line)] == [], event
        if control not in "\r\n":
            assert any(visible(evil) in line for line in diff), event


def test_a_tab_is_kept(cwd: Path) -> None:
    view = preview(editor(cwd / "new.txt", new_text="\tindented\n"), str(cwd))

    assert view.diff[-1] == "+\tindented"


# -- cut ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "limit", "kept", "more"),
    [
        (["a", "b", "c"], 2, ["a", "b"], 1),
        (["a", "b"], 2, ["a", "b"], 0),
        (["a"], 5, ["a"], 0),
        ([], 3, [], 0),
        (["a", "b"], 0, [], 2),
    ],
)
def test_cut_keeps_the_first_lines_and_counts_the_rest(
    lines: list[str], limit: int, kept: list[str], more: int
) -> None:
    assert cut(iter(lines), limit) == (kept, more)


def test_marks_that_reorder_text_cannot_disguise_a_command_or_a_diff(cwd: Path) -> None:
    trojan = "rm -rf build \u202e# sdrawkcab \u2066hidden\u2069"
    command = preview(call("run_commands", commands=[trojan]), str(cwd))
    edit = preview(editor(cwd / "a.txt", old_text="two", new_text="tw\u200fo"), str(cwd))

    assert command.details[0] == "$ rm -rf build ?# sdrawkcab ?hidden?"
    assert "+tw?o" in edit.diff
    assert not any(
        re.search("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", line)
        for line in shown(command) + shown(edit)
    )
