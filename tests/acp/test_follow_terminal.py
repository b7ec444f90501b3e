"""``cline-bridge task --headless`` on a terminal, as a person sees it: a real tmux screen, the
real Cline CLI behind a private sidecar, the fake model behind that.

Each test reads the screen tmux draws (tests/support/tmux.py) and types into it: the diff an edit
approval shows above its question, the answers y, d (the pager) and ?, the colours (read back
with ``capture-pane -e``, as tmux renders them), and the spinner that says the model is working.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI, call_tool, text_turn, write_file
from tests.support.cline_env import ClineHome
from tests.support.tmux import TmuxMissing, TmuxTerminal, require_tmux, tmux_terminal

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

WIDTH, HEIGHT = 100, 30
EDIT_PROMPT = "Approve? [y/N/d/?]"
COMMAND_PROMPT = "Approve? [y/N/?]"
END_OF_TURN = re.compile(r"── end_turn · \d+(\.\d)?s · \d+ tokens in, \d+ out")
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] working (\d+(?:\.\d)?)s")
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
RESETS = {"", "0", "39", "49"}
"""SGR parameters that only turn attributes off: tmux emits them in a plain screen too."""
QUIET_WHILE_ASKING = 0.6
"""Seconds a test watches a waiting question for a spinner (six of its frames)."""
INHERITED_STYLE = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PAGER", "LESS")
"""Variables of the person running the tests that would change what the screen shows."""

OpenTask = Callable[..., TmuxTerminal]
"""``open_task(*options, env=None, width=WIDTH)``: see the fixture."""


@pytest.fixture
def open_task(cline_home: ClineHome, tmp_path: Path) -> Iterator[OpenTask]:
    """``open_task(*options, env={...}, width=WIDTH)``: ``cline-bridge task --headless`` with
    ``options`` (and ``env`` on top of the Cline home's) in a ``width`` x HEIGHT tmux screen, in
    the Cline home's workspace; closed (the tmux server and every process of the pane killed, by
    pid) when the test ends, however it ends."""
    try:
        require_tmux()
    except TmuxMissing as error:
        pytest.fail(str(error))
    base = {
        name: value for name, value in cline_home.spawn_env().items() if name not in INHERITED_STYLE
    }
    base["CLINE_BRIDGE_ACP_COMMAND"] = shlex.join(cline_home.command)
    with contextlib.ExitStack() as stack:

        def open_(
            *options: str, env: Mapping[str, str] | None = None, width: int = WIDTH
        ) -> TmuxTerminal:
            argv = [sys.executable, "-m", "cline_bridge", "task", "do it", "--headless", *options]
            return stack.enter_context(
                tmux_terminal(
                    argv,
                    cwd=cline_home.workspace,
                    env=base | dict(env or {}),
                    folder=tmp_path,
                    width=width,
                    height=HEIGHT,
                )
            )

        yield open_


def lines(screen: str) -> list[str]:
    """The screen's lines, trailing blanks cut, blank lines at its bottom dropped."""
    found = [line.rstrip() for line in screen.split("\n")]
    while found and not found[-1]:
        found.pop()
    return found


def asking(prompt: str, after: str | None = None) -> Callable[[str], bool]:
    """Whether the screen's last line is ``prompt``, waiting for its answer, and (if given) the
    line above it ``after``: a question asked again, not the one already on the screen."""

    def shows_the_question(screen: str) -> bool:
        shown = lines(screen)
        if after is not None and shown[-2:-1] != [after]:
            return False
        return bool(shown) and shown[-1] == f"  {prompt}"

    shows_the_question.__name__ = f"the question {prompt!r} on the last line"
    return shows_the_question


def still_asking(terminal: TmuxTerminal, prompt: str) -> list[str]:
    """The screen once the question has waited a while: no spinner has drawn over it."""
    time.sleep(QUIET_WHILE_ASKING)
    shown = lines(terminal.capture())
    assert shown[-1] == f"  {prompt}", "\n".join(shown)
    assert not SPINNER.search("\n".join(shown)), "\n".join(shown)
    return shown


def attributes(screen: str) -> set[str]:
    """The SGR parameters that turn a colour or an attribute on, in a ``capture -e`` screen."""
    return {params for params in SGR.findall(screen) if params not in RESETS}


def finish(terminal: TmuxTerminal) -> list[str]:
    """Wait for the end-of-turn line and a successful exit; the whole screen, history included."""
    terminal.wait_for(END_OF_TURN)
    assert terminal.wait_exit() == 0, terminal.capture(history=True)
    return lines(terminal.capture(history=True))


def script_edit(
    fake_model: FakeClineAPI, target: Path, content: str, *, gate: threading.Event | None = None
) -> None:
    """The model creates ``target`` holding ``content``, then says so (once ``gate`` is set)."""
    fake_model.script(
        write_file(target, content, text_before="I will create the file."),
        text_turn("Created hello.txt.", gate=gate),
    )


def test_an_edit_shows_its_diff_before_asking_in_colour(
    cline_home: ClineHome, fake_model: FakeClineAPI, open_task: OpenTask
) -> None:
    target = cline_home.workspace / "hello.txt"
    script_edit(fake_model, target, "Hello, world!\nSecond line\n")
    terminal = open_task()

    terminal.wait_for(asking(EDIT_PROMPT))
    shown = still_asking(terminal, EDIT_PROMPT)
    asked = shown.index(f"  {EDIT_PROMPT}")
    assert shown[asked - 6 : asked] == [
        "  ? Cline wants to create hello.txt",
        "    --- /dev/null",
        "    +++ hello.txt",
        "    @@ -0,0 +1,2 @@",
        "    +Hello, world!",
        "    +Second line",
    ]
    assert "I will create the file." in shown
    assert not target.exists()
    screen = terminal.capture(escapes=True)
    assert "\x1b[1m+++ hello.txt" in screen  # headers bold, as git diff
    assert "\x1b[36m@@ -0,0 +1,2 @@" in screen  # hunks cyan
    assert "\x1b[32m+Hello, world!" in screen  # added lines green
    assert f"\x1b[1m{EDIT_PROMPT}" in screen  # the question bold

    terminal.send("y")
    shown = finish(terminal)

    assert target.read_text() == "Hello, world!\nSecond line\n"
    after = shown[shown.index(f"  {EDIT_PROMPT} y") :]
    assert after[1:4] == ["  ⚙ create hello.txt", "  ✓ create hello.txt", "Created hello.txt."]
    assert END_OF_TURN.search(after[4]), after
    screen = terminal.capture(escapes=True, history=True)
    assert "\x1b[32m✓\x1b[39m create hello.txt" in screen
    assert re.search(r"\x1b\[2m\s*── end_turn", screen), screen  # the end line dim


def test_d_pages_the_whole_diff_then_asks_again(
    cline_home: ClineHome, fake_model: FakeClineAPI, open_task: OpenTask
) -> None:
    target = cline_home.workspace / "hello.txt"
    content = "".join(f"line {number}\n" for number in range(60))
    script_edit(fake_model, target, content)
    terminal = open_task()

    shown = lines(terminal.wait_for(asking(EDIT_PROMPT)))
    # The screen has room for 22 lines of the diff: its 3 headers and 19 of its 60 lines.
    assert shown[-3:-1] == ["    +line 18", "    … 41 more lines (d shows them all)"]

    terminal.send("d")
    # less (LESS=FRX by default) shows a screenful and waits at its prompt, the question gone.
    paged = lines(terminal.wait_for(lambda screen: lines(screen)[-1:] == [":"]))
    assert paged[0] == "--- /dev/null"
    assert "+line 25" in paged
    assert not any("Approve?" in line for line in paged)
    terminal.send("G", enter=False)  # to the end of the whole diff
    terminal.wait_for(lambda screen: lines(screen)[-2:] == ["+line 59", "(END)"])
    terminal.send("q", enter=False)

    shown = lines(terminal.wait_for(asking(EDIT_PROMPT)))
    assert shown[-2] == "+line 59"  # the pager's last page stays above the question
    still_asking(terminal, EDIT_PROMPT)
    assert not target.exists()
    terminal.send("y")
    finish(terminal)
    assert target.read_text() == content


def test_a_command_shows_its_line_and_folder_and_explains_the_choices(
    cline_home: ClineHome, fake_model: FakeClineAPI, open_task: OpenTask
) -> None:
    fake_model.script(
        call_tool("run_commands", {"commands": ["echo hi > ran.txt"]}, text_before="Running it."),
        text_turn("Done."),
    )
    terminal = open_task()

    shown = lines(terminal.wait_for(asking(COMMAND_PROMPT)))
    assert shown[-4:-1] == [
        "  ? Cline wants to run `echo hi > ran.txt`",
        "    $ echo hi > ran.txt",
        f"    in {cline_home.workspace.resolve()}",
    ]
    terminal.send("?")
    shown = lines(terminal.wait_for(asking(COMMAND_PROMPT, after="    ?  this help")))
    assert shown[-5:-1] == [  # no d: a command has no diff to show
        f"  {COMMAND_PROMPT} ?",
        "    y  approve: Cline goes on and uses the tool",
        "    n  reject (also Enter, or the end of the input): Cline is told no",
        "    ?  this help",
    ]
    terminal.send("maybe")
    shown = lines(
        terminal.wait_for(asking(COMMAND_PROMPT, after="    Answer y or n (? explains)."))
    )
    assert shown[-3:-1] == [f"  {COMMAND_PROMPT} maybe", "    Answer y or n (? explains)."]
    assert not (cline_home.workspace / "ran.txt").exists()

    terminal.send("y")
    shown = finish(terminal)
    assert (cline_home.workspace / "ran.txt").read_text() == "hi\n"
    assert "  ✓ run `echo hi > ran.txt`" in shown


def _spun(screen: str) -> float:
    """The seconds the spinner on ``screen`` shows; -1 without one."""
    found = SPINNER.search(screen)
    return float(found.group(1)) if found else -1.0


def test_the_spinner_counts_while_the_model_works_and_ctrl_c_clears_it(
    cline_home: ClineHome, fake_model: FakeClineAPI, open_task: OpenTask
) -> None:
    target = cline_home.workspace / "hello.txt"
    answer = threading.Event()
    script_edit(fake_model, target, "Hello, world!\n", gate=answer)
    terminal = open_task()
    try:
        terminal.wait_for(asking(EDIT_PROMPT))
        still_asking(terminal, EDIT_PROMPT)  # no spinner under a question
        terminal.send("y")
        terminal.wait_for("  ✓ create hello.txt")  # the tool ran (a spinner may show till then)

        # The model's answer is held: the spinner says how long it has been working, in place.
        first = terminal.wait_for(SPINNER)
        later = terminal.wait_for(lambda screen: _spun(screen) > _spun(first) + 0.2, timeout=5)
        assert SPINNER.fullmatch(lines(later)[-1]), later  # a line of its own, redrawn in place
        assert lines(later)[-2] == "  ✓ create hello.txt"
        assert len(SPINNER.findall(later)) == 1
        styled = terminal.capture(escapes=True)
        assert re.search(r"\x1b\[2m[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] working", styled), styled  # dim

        terminal.press("C-c")
        assert terminal.wait_exit() == 130
    finally:
        answer.set()

    # (That the spinner also leaves nothing once the model answers: the next test.)
    shown = lines(terminal.capture(history=True))
    assert not any("working" in line for line in shown), "\n".join(shown)
    done = shown.index("  ✓ create hello.txt")
    message = "cline-bridge: interrupted; the headless sidecar stopped, and its task with it"
    assert message in shown[done + 1 : done + 3], "\n".join(shown)  # after a blank line: ^C
    # The Cline CLI behind the sidecar is gone too: the leak check of tests/acp says so.


def test_a_running_tool_spins_cut_to_the_screen_and_plain_with_no_color(
    cline_home: ClineHome, fake_model: FakeClineAPI, open_task: OpenTask
) -> None:
    command = "sleep 1.5 && echo a-long-tail-of-words-to-make-it-wide > out.txt"
    fake_model.script(call_tool("run_commands", {"commands": [command]}), text_turn("Done."))
    narrow = 40
    # NO_COLOR beats FORCE_COLOR (--color never and the rest: tests/cli/test_follow.py).
    terminal = open_task(width=narrow, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})

    terminal.wait_for(asking(COMMAND_PROMPT))
    terminal.send("y")
    tool = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] run `sleep 1\.5 && .*\.\.\. \d\.\ds")
    screen = terminal.wait_for(tool)
    spinning = lines(screen)[-1]
    assert len(spinning) <= narrow  # cut, so that it never wraps: \r redraws one line only
    assert attributes(terminal.capture(escapes=True)) == set()  # not even a dim spinner
    shown = finish(terminal)

    assert not any(tool.search(line) for line in shown), "\n".join(shown)
    done = shown.index(f"  ✓ run `{command}`")
    assert shown[done + 1] == "Done."
    assert attributes(terminal.capture(escapes=True, history=True)) == set()
