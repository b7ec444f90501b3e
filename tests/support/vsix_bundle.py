"""The bridge's VSIX unpacked as VS Code installs it, and its sidecar launched as the extension
does.

The extension (vscode-client/src/launch.ts, bundle.ts) starts ``<python> -m cline_bridge serve
--stdio`` with the extension folder as working directory and ``PYTHONPATH`` =
``bundled/libs/<abi>`` then ``bundled/libs/common``; ``bundled/manifest.json`` says which ABIs the
VSIX carries. Tests that must prove the bundle, and nothing of the repository, runs the sidecar
use this module to do the same.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.environment import without_cline_settings

EXTENSION = "extension/"
"""Where a VSIX keeps the extension's files; VS Code installs that folder."""
MANIFEST = "bundled/manifest.json"
ISOLATING_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV")
"""Variables of the test's own environment that would let it reach the sidecar; dropped."""


class VsixLayoutError(RuntimeError):
    """The VSIX is not of the per-ABI layout; the message says what is wrong and what to run."""


@dataclass(frozen=True)
class UnpackedVsix:
    extension: Path
    """The extension folder, as VS Code installs it: the sidecar's working directory."""
    manifest: dict[str, Any]
    """``bundled/manifest.json``: ``target``, ``abis``, ``version``, ``python``."""

    def libs(self, abi: str) -> list[Path]:
        """The ``PYTHONPATH`` folders for ``abi``, in the extension's order."""
        root = self.extension / "bundled" / "libs"
        return [root / abi, root / "common"]

    def sidecar_env(self, abi: str, **extra: str) -> dict[str, str]:
        """The environment the extension gives the sidecar, minus anything of the test's that
        could reach the repository: no inherited ``PYTHONPATH`` or virtual environment, no user
        site-packages, no ``CLINE_*`` setting but ``extra``'s."""
        env = without_cline_settings(**extra)
        for name in ISOLATING_VARIABLES:
            env.pop(name, None)
        env["PYTHONPATH"] = os.pathsep.join(str(folder) for folder in self.libs(abi))
        env["PYTHONNOUSERSITE"] = "1"
        return env

    def sidecar_command(self, python: Path) -> list[str]:
        """The sidecar's command line, as vscode-languageclient runs it."""
        return [str(python), "-m", "cline_bridge", "serve", "--stdio"]


def unpack_vsix(vsix: Path, into: Path) -> UnpackedVsix:
    """Unpack ``vsix`` into the folder ``into``; raise ``VsixLayoutError`` unless it carries a
    manifest and every folder the manifest promises."""
    if not vsix.is_file():
        raise VsixLayoutError(f"{vsix.name} is missing: run `make vsix`")
    with zipfile.ZipFile(vsix) as archive:
        if EXTENSION + MANIFEST not in archive.namelist():
            raise VsixLayoutError(
                f"{vsix.name} has no {MANIFEST}: it is of the old single-folder layout; "
                "run `make vsix` to build it with one library folder per CPython ABI"
            )
        archive.extractall(into)
    unpacked = UnpackedVsix(
        extension=into / EXTENSION, manifest=json.loads((into / EXTENSION / MANIFEST).read_text())
    )
    abis = unpacked.manifest.get("abis")
    if not isinstance(abis, list) or not abis:
        raise VsixLayoutError(f"{vsix.name}'s {MANIFEST} lists no ABIs: {unpacked.manifest}")
    missing = {
        str(folder.relative_to(unpacked.extension))
        for abi in abis
        for folder in unpacked.libs(abi)
        if not folder.is_dir()
    }
    if missing:
        raise VsixLayoutError(
            f"{vsix.name}'s {MANIFEST} lists ABIs {abis}, but the VSIX lacks {sorted(missing)}"
        )
    return unpacked
