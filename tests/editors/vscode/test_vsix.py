"""The packaged extension: the VSIX carries the sidecar exactly as the source tree has it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.editors.vscode.workbench import REPO

BUNDLED = "extension/bundled/libs/"


def test_the_vsix_carries_the_sidecar_and_nothing_left_from_an_earlier_layout(
    bridge_vsix: Path,
) -> None:
    source = REPO / "server"
    expected = {
        path.relative_to(source).as_posix()
        for path in (source / "cline_bridge").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(bridge_vsix) as vsix:
        bundled = {
            name.removeprefix(BUNDLED)
            for name in vsix.namelist()
            if name.startswith(BUNDLED + "cline_bridge/")
        }

    assert "cline_bridge/sidecar/server.py" in bundled, "the sidecar is in the VSIX"
    assert bundled == expected, "the VSIX's cline_bridge is the source tree's, module for module"
