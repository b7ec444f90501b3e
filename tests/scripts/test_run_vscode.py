"""``make run`` with VS Code's ``code`` command (scripts/run-vscode.sh): the bridge is installed,
Cline too when it is missing (scripts/install-cline.sh), and the steps left are printed.

``code`` is a stand-in on PATH that records its arguments; the code-server path is the one the
code-server tier starts for real."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.e2e_tools import REPO
from tests.support.environment import without_cline_settings

SCRIPT = REPO / "scripts" / "run-vscode.sh"
FAKE_CODE = """#!/bin/sh
echo "$*" >> "{log}"
case "$1" in
  --list-extensions) printf '%s' "$FAKE_CODE_EXTENSIONS" | tr ' ' '\\n' ;;
  --install-extension) case "$2" in *claude-dev*) exit "${{FAKE_CODE_CLINE_STATUS:-0}}" ;; esac ;;
esac
"""


def run_script(
    tmp_path: Path, *, installed: str = "", cline_status: int = 0
) -> tuple[subprocess.CompletedProcess[str], list[str], Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "code.log"
    bin_dir.mkdir()
    code = bin_dir / "code"
    code.write_text(FAKE_CODE.format(log=log))
    code.chmod(0o755)
    cline_vsix = tmp_path / "claude-dev.vsix"
    cline_vsix.write_bytes(b"PK")
    bridge_vsix = tmp_path / "cline-bridge.vsix"
    bridge_vsix.write_bytes(b"PK")
    environ = without_cline_settings(
        PATH=f"{bin_dir}:/usr/bin:/bin",
        CLINE_VSIX=str(cline_vsix),
        FAKE_CODE_EXTENSIONS=installed,
        FAKE_CODE_CLINE_STATUS=str(cline_status),
    )
    done = subprocess.run(
        ["bash", str(SCRIPT), str(bridge_vsix)],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls, cline_vsix


def test_a_missing_cline_is_installed_beside_the_bridge(tmp_path: Path) -> None:
    done, calls, cline_vsix = run_script(tmp_path, installed="ms-python.python")

    assert done.returncode == 0, done.stderr
    assert calls == [
        f"--install-extension {tmp_path / 'cline-bridge.vsix'} --force",
        "--list-extensions",
        f"--install-extension {cline_vsix} --force",
    ]
    assert f"Installed Cline from {cline_vsix}." in done.stdout
    assert "sign in, or choose an API provider" in done.stdout


@pytest.mark.parametrize("installed", ["saoudrizwan.claude-dev", "SaoudRizwan.claude-dev"])
def test_an_installed_cline_is_left_alone(tmp_path: Path, installed: str) -> None:
    done, calls, _ = run_script(tmp_path, installed=f"ms-python.python {installed}")

    assert done.returncode == 0, done.stderr
    assert not any("claude-dev" in call for call in calls)
    assert "Installed Cline from" not in done.stdout


def test_a_failed_cline_install_names_the_sources_and_the_bridge_still_runs(
    tmp_path: Path,
) -> None:
    done, _, cline_vsix = run_script(tmp_path, cline_status=1)

    assert done.returncode == 0
    assert f"installing {cline_vsix} failed" in done.stderr
    assert "CLINE_VSIX=/path/to/claude-dev-" in done.stderr
    assert "a network connection, for the editor's extension gallery" in done.stderr
    assert "Cline is not installed (see above)" in done.stderr
    assert "Installed Cline Bridge into VS Code" in done.stdout
