"""A real batch Emacs (28.2 with elpa-eglot 1.9 on these machines) running the documented Elisp.

Each run starts `emacs --batch -l <scenario>.el` in its own session with HOME and every XDG
folder inside a temporary root, so nothing is read from or written to the real home (batch Emacs
loads no init file; Debian's site start-up still activates the packaged Eglot, as for a user). A
scenario (`*.el` beside this file) loads `harness.el`, which sets the options as a user's init
file would and `require`s `docs/editors/cline-bridge.el`, the file users copy. Eglot starts the
sidecar the way that file says, as `cline-bridge serve` found on PATH: the test puts this
virtualenv's scripts folder first on PATH. The scenario writes what it saw to a JSON file: the
oracle. The run has a hard timeout; afterwards every process seen under Emacs (the sidecar, the
Cline CLI) is killed by pid if it is still there, and the test fails, because none should
outlive Emacs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.environment import without_cline_settings
from tests.support.processes import ProcessWatch, stop_group

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
MODULE = REPO / "docs" / "editors" / "cline-bridge.el"
"""The documented Emacs configuration: the single source of truth these tests run."""
HARNESS = HERE / "harness.el"
EMACS = Path(os.environ.get("CLINE_BRIDGE_EMACS", "/usr/bin/emacs"))
SCRIPTS = Path(sys.executable).parent
"""This virtualenv's scripts folder, which holds the `cline-bridge` entry point."""
STAND_IN_AGENT = {"command": [sys.executable, "-c", "pass"]}
"""An `acp` option that selects the ACP host without a Cline CLI (the agent starts lazily)."""

RUN_TIMEOUT = 40.0  # seconds: the scenario's own deadline is this minus STOP_MARGIN
STOP_MARGIN = 15.0  # for the harness to stop the sidecar, write the result and quit
LOG_TAIL_LINES = 40


@dataclass
class EmacsRun:
    """What a scenario wrote, and where its log is."""

    result: dict[str, Any]
    returncode: int | None
    root: Path

    def logs(self) -> str:
        """The tails of Emacs's output (its messages) and of each sidecar's stderr."""
        parts = []
        log = self.root / "emacs.log"
        if log.is_file():
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            parts += ["--- emacs output ---", *lines]
        for index, stderr in enumerate(self.result.get("server_stderr") or []):
            lines = str(stderr).splitlines()[-LOG_TAIL_LINES:]
            parts += [f"--- sidecar {index} stderr ---", *lines]
        return "\n".join(parts)


class Emacs:
    """Runs scenarios in fresh batch Emacs processes whose files all live under ``root``."""

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
        env: Mapping[str, str] | None = None,
        timeout: float = RUN_TIMEOUT,
    ) -> EmacsRun:
        """Run ``<scenario>.el``; ``acp`` is the sidecar's ``initializationOptions.acp``
        (``{"command": [...], "env": {...}}``), ``env`` is added to Emacs's environment, which
        the sidecar inherits."""
        if not (SCRIPTS / "cline-bridge").is_file():
            pytest.fail(f"no cline-bridge entry point in {SCRIPTS}: install the package")
        self._runs += 1
        root = self.root / f"run-{self._runs}"
        for name in ("home", "config", "data", "state", "cache", "run", "tmp"):
            (root / name).mkdir(mode=0o700, parents=True)
        result_path = root / "result.json"
        # No inherited CLINE_* setting (a user's key, a bridge to reach, an agent command): the
        # test chooses them all.
        environ = {
            **without_cline_settings(),
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_CACHE_HOME": str(root / "cache"),
            "XDG_RUNTIME_DIR": str(root / "run"),  # the sidecar's discovery file
            "TMPDIR": str(root / "tmp"),
            # As the documentation says: `cline-bridge` on PATH.
            "PATH": os.pathsep.join([str(SCRIPTS), os.environ.get("PATH", os.defpath)]),
            "CLINE_BRIDGE_TEST_HARNESS": str(HARNESS),
            "CLINE_BRIDGE_TEST_MODULE": str(MODULE),
            "CLINE_BRIDGE_TEST_RESULT": str(result_path),
            "CLINE_BRIDGE_TEST_WORKSPACE": str(self.workspace),
            "CLINE_BRIDGE_TEST_TIMEOUT_MS": str(int((timeout - STOP_MARGIN) * 1000)),
        }
        for variable in ("EMACSLOADPATH", "EMACSDATA", "EMACSPATH", "EMACS_SERVER_FILE"):
            environ.pop(variable, None)  # a user's or a parent Emacs's
        optional = {
            "CLINE_BRIDGE_TEST_ACP": json.dumps(acp) if acp is not None else None,
            "CLINE_BRIDGE_TEST_INIT_OPTIONS": json.dumps(init_options) if init_options else None,
            "CLINE_BRIDGE_TEST_PROMPT": prompt,
        }
        environ.update({key: value for key, value in optional.items() if value is not None})
        environ.update(env or {})
        command = [str(EMACS), "--batch", "-l", str(HERE / f"{scenario}.el")]

        watch = ProcessWatch()
        # Emacs's messages go to a file: a pipe nobody reads while it runs could fill up.
        with (root / "emacs.log").open("wb") as log:
            proc = subprocess.Popen(
                command,
                cwd=self.workspace,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                returncode = watch.wait_for(proc, timeout)
            finally:
                stop_group(proc)
                watch.look_group(proc.pid)
                survivors = watch.kill_survivors()
        run = EmacsRun({}, returncode, root)
        if result_path.is_file():
            run.result = json.loads(result_path.read_text())
        if returncode is None:
            pytest.fail(f"Emacs did not finish within {timeout:.0f} s\n{run.logs()}")
        if survivors:
            pytest.fail(f"processes outlived Emacs: {sorted(survivors.values())}\n{run.logs()}")
        if not result_path.is_file():
            pytest.fail(f"the scenario wrote no result (exit {returncode})\n{run.logs()}")
        return run
