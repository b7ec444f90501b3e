"""A real VS Code for end-to-end tests: code-server on Node 24, driven by Chromium via playwright.

The editor (``code_server``), the browser (``chromium_page``) and the workbench a test drives
(``Workbench``); the fixtures that start them are in conftest.py.

Each test gets its own editor: a fresh profile in a temporary folder, the packaged bridge installed
from its VSIX, a Cline (none, the test double, or the real extension: ``ClineSetup``), and a
code-server in its own process group that is killed by pid at the end. The double records every
ClineAPI call in `calls.jsonl`: the oracle; the real Cline is checked through its model server and
its own records (real_cline.py).
When a test fails, the tails of code-server's log and of the extension host's logs (ours included)
are printed under the failure.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from playwright.sync_api import Locator, Page, sync_playwright

from tests.editors.vscode.real_cline import ClineRecords, RealCline, cline_environment
from tests.support.e2e_tools import tool_versions, tools_cache
from tests.support.processes import alive, all_processes, cmdline, descendants, exe, stat

REPO = Path(__file__).resolve().parents[3]
VSIX = REPO / "vscode-client" / "cline-bridge.vsix"
CLINE_DOUBLE = REPO / "tests" / "fakes" / "cline-extension"
CLINE_FOLDER = "saoudrizwan.claude-dev-3.99.0"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "security.workspace.trust.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "chat.disableAIFeatures": True,
    # The DOM renderer puts the terminal's text in the page, where a test can wait for it.
    "terminal.integrated.gpuAcceleration": "off",
}

HEALTH_TIMEOUT = 30.0  # seconds
STOP_TIMEOUT = 10.0
TOAST = ".notifications-toasts .notification-toast"
OUTPUT_PICKER = '.part.panel select[aria-label="Switch Output"]'
OUTPUT_TEXT = ".part.panel .output-view .view-lines"
WORKBENCH_TIMEOUT_MS = 60_000
UI_TIMEOUT_MS = 15_000
LOG_TAIL_LINES = 60

T = TypeVar("T")
ClineSetup = Literal["none", "double"] | RealCline
"""The Cline an editor gets: none, the double (tests/fakes/cline-extension), or the real one."""


def wait_until(
    condition: Callable[[], T], timeout: float, what: str, *, interval: float = 0.05
) -> T:
    """Poll `condition` every `interval` seconds until it returns something truthy, and return
    that; fail (AssertionError) after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return result


# --- tools --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    node_bin: Path
    code_server: Path


class EditorToolsMissing(RuntimeError):
    """Node 24, code-server or Chromium is not installed; the message says which."""


def installed_tools() -> Tools:
    """The cached Node 24 and code-server (scripts/install-e2e-tools.sh), Chromium checked too."""
    versions = tool_versions()
    cache = tools_cache()
    node_bin = cache / f"node-{versions['NODE_VERSION']}" / "bin"
    code_server_dir = cache / f"code-server-{versions['CODE_SERVER_VERSION']}"
    code_server = code_server_dir / "node_modules" / ".bin" / "code-server"
    needed = (node_bin / "node", code_server, code_server_dir / ".complete", CHROMIUM)
    if missing := [str(path) for path in needed if not path.exists()]:
        raise EditorToolsMissing(
            f"end-to-end tools missing ({', '.join(missing)}): run `make e2e-tools`"
        )
    return Tools(node_bin=node_bin, code_server=code_server)


# --- processes ----------------------------------------------------------------------------------


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM code-server's process group, SIGKILL it if it lingers, and check nothing is left."""
    pgid = proc.pid  # started with start_new_session=True, so it leads its own group
    escaped = {pid for pid in descendants(proc.pid) if (s := stat(pid)) and s.pgrp != pgid}

    def left() -> list[int]:
        in_group = [s.pid for s in all_processes() if s.pgrp == pgid]
        return [pid for pid in [*in_group, *escaped] if alive(pid)]

    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        for pid in escaped:  # children that made a session of their own (terminals)
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT)
        with suppress(AssertionError):
            wait_until(lambda: not left(), STOP_TIMEOUT, "code-server to exit")
            break
    assert not left(), f"code-server processes survived: {[cmdline(pid) for pid in left()]}"


# --- the editor ---------------------------------------------------------------------------------


@dataclass
class Editor:
    """A running code-server whose profile, workspace and logs all live in `root`."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def calls_file(self) -> Path:
        return self.root / "calls.jsonl"

    @property
    def cline_data(self) -> Path:
        """Cline's data folder (``$CLINE_DIR/data``): its settings and its task records."""
        return self.root / "cline" / "data"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={urllib.parse.quote(str(self.workspace))}"

    def calls(self) -> list[dict[str, Any]]:
        """The ClineAPI calls the Cline double recorded, in order."""
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text().splitlines() if line]

    def wait_for_calls(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.calls()) >= count, timeout, f"{count} ClineAPI call(s)")
        return self.calls()

    @property
    def logs(self) -> Path:
        """The logs of the workbench and the extension host, output channels included."""
        return self.root / "user-data" / "logs"

    def log_files(self) -> list[Path]:
        """Every log this editor wrote: code-server's own and all under `logs`."""
        return [self.root / "code-server.log", *sorted(filter(Path.is_file, self.logs.rglob("*")))]

    def wait_for_log(self, channel: str, text: str, timeout: float = 15.0) -> str:
        """The file of log output channel `channel`, once it contains `text` (the extension host
        writes it with a delay); return its content."""

        def content() -> str:
            logs = [log.read_text(errors="replace") for log in self.logs.rglob(f"{channel}.log")]
            return next((log for log in logs if text in log), "")

        return wait_until(content, timeout, f"{text!r} in the {channel!r} log")

    def sidecar_pids(self) -> list[int]:
        """The live Python processes under code-server that run `cline_bridge serve`.

        An interpreter shim (pyenv's, a bash script) shows the same command line in the processes
        that start the real one, its forked subshells included: only a Python interpreter with no
        matching descendant is the sidecar itself."""
        matches = [
            pid
            for pid in descendants(self.proc.pid)
            if "cline_bridge serve" in cmdline(pid) and alive(pid)
        ]
        return [
            pid
            for pid in matches
            if Path(exe(pid) or "").name.startswith("python")
            and not set(descendants(pid)) & set(matches)
        ]


def failure_report(root: Path, page: Page | None) -> str:
    """Tails of code-server's log, the extension host's log and our output channel, and the toasts
    on screen: what a failed test prints."""
    logs = [
        root / "code-server.log",
        *sorted(root.glob("user-data/logs/**/*exthost.log")),
        *sorted(root.glob("user-data/logs/**/*Cline Bridge*.log")),
    ]
    parts = []
    for log in filter(Path.is_file, logs):
        lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        parts += [f"--- {log.relative_to(root)} ---", *lines]
    records = ClineRecords(root / "cline" / "data")
    for session in records.session_ids():
        parts += [f"--- Cline's task {session}: {records.status(session)} ---"]
        parts += [summary for message in records.messages(session) if (summary := _said(message))]
    with suppress(Exception):  # the page may be gone
        toasts = page.locator(TOAST).all_inner_texts() if page else []
        parts += ["--- toasts on screen ---", *(" ".join(text.split()) for text in toasts)]
    return "\n".join(parts)


def _said(message: dict[str, Any]) -> str:
    """One line for a message Cline recorded: its role and its parts, each cut short."""
    parts = []
    for part in message.get("content") or []:
        if isinstance(part, dict):
            kind = part.get("type")
            detail = part.get("text") or part.get("name") or part.get("content") or ""
            parts.append(f"{kind}: {' '.join(str(detail).split())[:80]}")
    return f"{message.get('role')}: {' | '.join(parts)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:  # URLError included
        return False


@contextmanager
def code_server(
    tools: Tools,
    vsix: Path,
    root: Path,
    *,
    cline: ClineSetup,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    unpacked: Sequence[Path] = (),
) -> Iterator[Editor]:
    """Start code-server on a fresh profile in `root`, with `cline`; stop its whole process group
    after.

    `unpacked` are extension folders (named ``publisher.name-version``) to install as they are.

    `env` is added to code-server's environment (the extension host and the sidecar inherit it),
    `settings` to the user settings.
    """
    folders = ("workspace", "user-data/User", "extensions", "config", "data", "cache", "run", "tmp")
    for name in folders:
        (root / name).mkdir(mode=0o700, parents=True)
    user_settings = {**SETTINGS, **(settings or {})}
    (root / "user-data/User/settings.json").write_text(json.dumps(user_settings, indent=2))
    environ = {
        **os.environ,
        "PATH": f"{tools.node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(root / "config"),  # else ~/.config/code-server/config.yaml
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "XDG_RUNTIME_DIR": str(root / "run"),  # IPC sockets, the bridge's discovery files
        "TMPDIR": str(root / "tmp"),
        "CLINE_FAKE_RECORD": str(root / "calls.jsonl"),
        **cline_environment(root),
    }
    for inherited in ("CLINE_BRIDGE", "CLINE_FAKE_THROW", "CLINE_DATA_DIR"):  # would change
        environ.pop(inherited, None)  # what the tests see
    environ.update(env or {})
    profile = ["--user-data-dir", str(root / "user-data")]
    profile += ["--extensions-dir", str(root / "extensions")]

    # The unpacked double goes in first: installing the VSIX then lists it in extensions.json too.
    # A folder added after that file exists is dropped by code-server as "removed".
    for folder in unpacked:
        shutil.copytree(folder, root / "extensions" / folder.name)
    if cline == "double":
        shutil.copytree(CLINE_DOUBLE, root / "extensions" / CLINE_FOLDER)
    elif isinstance(cline, RealCline):
        cline.configure(root / "cline" / "data")
        cline.install([str(tools.code_server), *profile], environ)
    install = subprocess.run(
        [str(tools.code_server), *profile, "--install-extension", str(vsix)],
        env=environ, capture_output=True, text=True, timeout=60, start_new_session=True,
    )  # fmt: skip
    assert install.returncode == 0, f"installing {vsix.name}:\n{install.stdout}{install.stderr}"

    port = _free_port()
    with (root / "code-server.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(tools.code_server), "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", *profile,
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", str(root / "workspace")],
            env=environ, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: proc.poll() is not None or _healthy(port), HEALTH_TIMEOUT, "/healthz")
        assert proc.poll() is None, f"code-server exited with status {proc.returncode}"
        yield Editor(root, port, proc)
    finally:
        _stop_group(proc)


# --- the workbench in Chromium ------------------------------------------------------------------


@contextmanager
def chromium_page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


@dataclass
class Workbench:
    """The editor's workbench in Chromium, with the few gestures the tests need."""

    editor: Editor
    page: Page

    def open(self) -> None:
        """Load the workbench and wait until the bridge says its sidecar is running."""
        self.page.goto(self.editor.url, wait_until="domcontentloaded")
        self.page.locator(".monaco-workbench").wait_for(timeout=WORKBENCH_TIMEOUT_MS)
        self.status("running").wait_for(timeout=WORKBENCH_TIMEOUT_MS)

    def run_command(self, title: str) -> None:
        """Run a command from the palette (F1) by its full title, as a user would."""
        self.page.keyboard.press("F1")
        box = self.page.locator(".quick-input-widget input")
        box.wait_for()
        box.fill(">" + title)
        # Enter only once the list has caught up with the filter, else it runs another entry.
        self.page.locator(".quick-input-list .monaco-list-row.focused", has_text=title).wait_for()
        box.press("Enter")

    def answer_input_box(self, prompt: str, text: str) -> None:
        """Type `text` into the input box that shows `prompt`, and accept it."""
        self.page.locator(".quick-input-widget", has_text=prompt).wait_for()
        box = self.page.locator(".quick-input-widget input")
        box.fill(text)
        box.press("Enter")

    def output_lines(self, channel: str) -> list[str]:
        """The lines the output panel shows, top to bottom; [] unless it shows `channel`."""
        picker = self.page.locator(OUTPUT_PICKER).filter(visible=True)
        if picker.count() != 1 or picker.input_value() != channel:
            return []
        # Lines are positioned absolutely, so order them by position, not by DOM order.
        lines: list[str] = self.page.locator(OUTPUT_TEXT).evaluate(
            """(lines) => [...lines.querySelectorAll(".view-line")]
                .sort((a, b) => a.offsetTop - b.offsetTop)
                .map((line) => line.textContent.replaceAll("\\u00a0", " "))"""
        )
        return lines

    def wait_for_output(self, channel: str, line: str, timeout: float = 15.0) -> list[str]:
        """The output panel's lines, once it shows `channel` with `line` among them."""

        def shown() -> list[str]:
            lines = self.output_lines(channel)
            return lines if line in lines else []

        return wait_until(shown, timeout, f"{line!r} in the output channel {channel!r}")

    def toast(self, text: str) -> Locator:
        """The notification toast that contains `text`."""
        return self.page.locator(TOAST, has_text=text)

    def status(self, state: str) -> Locator:
        """The Cline Bridge status bar item, when it shows `state`."""
        return self.page.locator(f'.statusbar-item[aria-label="Cline Bridge: {state}"]')

    def run_in_new_terminal(self, command_line: str) -> None:
        """Open a new integrated terminal from the palette and type `command_line` and Enter into
        it once its shell runs."""
        code_server = self.editor.proc.pid
        before = set(descendants(code_server))

        def new_shell() -> list[int]:
            # The pty makes the shell lead a process group of its own, unlike code-server's others.
            return [
                pid
                for pid in descendants(code_server)
                if pid not in before and (found := stat(pid)) and found.pgrp == pid and alive(pid)
            ]

        self.run_command("Terminal: Create New Terminal")
        # The new terminal shows and has the focus, so the keyboard types into it.
        terminal = self.page.locator(".part.panel .xterm:has(.xterm-helper-textarea:focus)")
        terminal.wait_for()
        wait_until(new_shell, HEALTH_TIMEOUT, "the new terminal's shell")
        # The shell shows its prompt once it has read its start-up files and reads commands.
        prompt = terminal.locator(".xterm-rows").filter(has_text=re.compile(r"\S"))
        prompt.wait_for(timeout=UI_TIMEOUT_MS)
        self.page.keyboard.type(command_line)
        self.page.keyboard.press("Enter")

    def cline_bridge_from_terminal(self, echoed: Path) -> Path:
        """The discovery file a new integrated terminal's CLINE_BRIDGE names, checked to exist
        (the terminal echoes it into the file ``echoed``)."""
        self.run_in_new_terminal(f'echo "$CLINE_BRIDGE" > {shlex.quote(str(echoed))}')
        wait_until(
            lambda: echoed.is_file() and echoed.read_text().endswith("\n"),
            15.0,
            "the terminal's echo",
        )
        discovery = Path(echoed.read_text().strip())
        assert discovery.is_absolute(), f"CLINE_BRIDGE is {str(discovery)!r}"
        assert discovery.is_file(), f"CLINE_BRIDGE names {discovery}, which does not exist"
        return discovery


class StartWorkbench(Protocol):
    """What `start_workbench` gives a test: `_workbench`'s options, started on call."""

    def __call__(
        self,
        *,
        cline: ClineSetup,
        env: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Workbench: ...
