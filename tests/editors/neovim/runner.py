"""A real headless Neovim (0.7.2 on these machines) running the documented Lua configuration.

Each run starts `nvim --headless -u NONE -i NONE` in its own session with HOME and every XDG
folder inside a temporary root, so nothing is read from or written to the real home. Neovim runs
a scenario (`*.lua` beside this file) that loads `docs/editors/cline-bridge.lua`, the file users
copy, through `harness.lua`; the test's choices reach it in `CLINE_BRIDGE_TEST_*` variables. The
scenario writes what it saw to a JSON file: the oracle. The run has a hard timeout; afterwards
every process seen under Neovim (the sidecar, the Cline CLI) is killed by pid if it is still
there, and the test fails, because none should outlive Neovim.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.environment import without_cline_settings
from tests.support.processes import ProcessWatch, stop_group

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
MODULE = REPO / "docs" / "editors" / "cline-bridge.lua"
"""The documented Neovim configuration: the single source of truth these tests run."""
HARNESS = HERE / "harness.lua"
NVIM = Path(os.environ.get("CLINE_BRIDGE_NVIM", "/usr/bin/nvim"))
SERVER_COMMAND = [sys.executable, "-m", "cline_bridge", "serve"]
STAND_IN_AGENT = {"command": [sys.executable, "-c", "pass"]}
"""An `acp` option that selects the ACP host without a Cline CLI (the agent starts lazily)."""

RUN_TIMEOUT = 60.0  # seconds: the scenario's own deadline is this minus STOP_MARGIN
STOP_MARGIN = 15.0  # for the harness to stop the sidecar, write the result and quit
LOG_TAIL_LINES = 40


# --- a run ---------------------------------------------------------------------------------------


@dataclass
class NeovimRun:
    """What a scenario wrote, and where its logs are."""

    result: dict[str, Any]
    returncode: int | None
    root: Path
    stderr: str

    def logs(self) -> str:
        """Neovim's LSP log (the sidecar's stderr lands there) and its own stderr, tails."""
        parts = []
        for log in (self.root / "cache/nvim/lsp.log", self.root / "nvim.log"):
            if log.is_file():
                lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                parts += [f"--- {log.name} ---", *lines]
        parts += ["--- nvim stderr ---", *self.stderr.splitlines()[-LOG_TAIL_LINES:]]
        return "\n".join(parts)


class Neovim:
    """Runs scenarios in fresh headless Neovims whose files all live under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.workspace.mkdir(parents=True)
        self._runs = 0

    def run(
        self,
        scenario: str,
        *,
        acp: Mapping[str, Any] | None = None,
        prompt: str | None = None,
        init_options: Mapping[str, Any] | None = None,
        server_command: Sequence[str] = SERVER_COMMAND,
        env: Mapping[str, str] | None = None,
        timeout: float = RUN_TIMEOUT,
    ) -> NeovimRun:
        """Run ``<scenario>.lua``; ``acp`` is the sidecar's ``initializationOptions.acp``
        (``{"command": [...], "env": {...}}``), ``env`` is added to Neovim's environment, which
        the sidecar inherits."""
        self._runs += 1
        root = self.root / f"run-{self._runs}"
        folders = ("home", "config", "data", "state", "cache", "run", "tmp")
        for name in folders:
            (root / name).mkdir(mode=0o700, parents=True)
        result_path = root / "result.json"
        # No inherited CLINE_* setting (a user's key, a bridge to reach, an agent command): the
        # test chooses them all.
        inherited = without_cline_settings()
        environ = {
            **inherited,
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_CACHE_HOME": str(root / "cache"),  # Neovim's lsp.log
            "XDG_RUNTIME_DIR": str(root / "run"),  # the sidecar's discovery file
            "TMPDIR": str(root / "tmp"),
            "NVIM_LOG_FILE": str(root / "nvim.log"),
            "CLINE_BRIDGE_TEST_HARNESS": str(HARNESS),
            "CLINE_BRIDGE_TEST_MODULE": str(MODULE),
            "CLINE_BRIDGE_TEST_RESULT": str(result_path),
            "CLINE_BRIDGE_TEST_SERVER": json.dumps(list(server_command)),
            "CLINE_BRIDGE_TEST_WORKSPACE": str(self.workspace),
            "CLINE_BRIDGE_TEST_TIMEOUT_MS": str(int((timeout - STOP_MARGIN) * 1000)),
        }
        for variable in ("NVIM", "VIMINIT"):  # a parent Neovim's, or a user's startup commands
            environ.pop(variable, None)
        optional = {
            "CLINE_BRIDGE_TEST_ACP": json.dumps(acp) if acp is not None else None,
            "CLINE_BRIDGE_TEST_INIT_OPTIONS": json.dumps(init_options) if init_options else None,
            "CLINE_BRIDGE_TEST_PROMPT": prompt,
        }
        environ.update({key: value for key, value in optional.items() if value is not None})
        environ.update(env or {})
        command = [str(NVIM), "--headless", "-u", "NONE", "-i", "NONE", "-n", "--noplugin"]
        command += ["-c", f"luafile {HERE / f'{scenario}.lua'}"]

        watch = ProcessWatch()
        proc = subprocess.Popen(
            command,
            cwd=self.workspace,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            # stderr is read only afterwards: Neovim writes little there, far below a pipe's buffer.
            returncode = watch.wait_for(proc, timeout)
        finally:
            stop_group(proc)
            watch.look_group(proc.pid)
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            survivors = watch.kill_survivors()
        run = NeovimRun({}, returncode, root, stderr)
        if returncode is None:
            pytest.fail(f"Neovim did not finish within {timeout:.0f} s\n{run.logs()}")
        if survivors:
            pytest.fail(f"processes outlived Neovim: {sorted(survivors.values())}\n{run.logs()}")
        if not result_path.is_file():
            pytest.fail(f"the scenario wrote no result (exit {returncode})\n{run.logs()}")
        run.result = json.loads(result_path.read_text())
        return run
