"""The sidecar from the VSIX under each CPython it carries libraries for, against a bare pygls
server on the same Python with the same libraries.

`make vsix`'s VSIX is unpacked as VS Code installs it. For each of CPython 3.10-3.13 (pyenv's),
both servers start as the extension starts the sidecar: that Python, `PYTHONPATH` =
`bundled/libs/<abi>` then `bundled/libs/common`, the extension folder as working directory, no user
site-packages. The baseline is `bare_server.py` (pygls and lsprotocol from the same bundle), so
the ratio shows what the sidecar adds to pygls on that Python, not how fast the Python is. Bytecode
is written on the warm-up starts, as an installed extension's folder gets it on first use.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import repo  # puts tests/ on sys.path; ROOT is used below
from control import UNGUARDED_CLINE
from measures import Side, Stats, cold_start
from table import Row, render, row_json

# isort: split
from tests.support.pyenv import PythonMissing, pyenv_python
from tests.support.vsix_bundle import VsixLayoutError, unpack_vsix

VSIX = repo.ROOT / "vscode-client" / "cline-bridge.vsix"
BARE_SERVER = Path(__file__).resolve().with_name("bare_server.py")
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
COLD_START_TARGET = 1.05
MS = 1e3


class PythonsUnavailable(Exception):
    """The table cannot run: no VSIX of the per-ABI layout, or a Python is missing."""


@dataclass(frozen=True)
class PythonsPlan:
    runs: int
    warmups: int


@dataclass(frozen=True)
class PythonsResults:
    plan: PythonsPlan
    cold_start_s: dict[str, tuple[Stats, Stats]]
    """Per Python version: (bare pygls, sidecar)."""
    vsix_bytes: int

    def rows(self) -> list[Row]:
        return [
            Row(
                f"cold start {version}, median (ms)",
                bare.median * MS,
                sidecar.median * MS,
                COLD_START_TARGET,
            )
            for version, (bare, sidecar) in self.cold_start_s.items()
        ]

    def lines(self) -> list[str]:
        return [
            "the sidecar from the VSIX under each CPython it carries, vs bare pygls on that "
            "Python with the same",
            f"bundled libraries; spawn -> initialize response, {self.plan.runs} runs each, "
            f"interleaved, after {self.plan.warmups} warm-up(s); VSIX "
            f"{self.vsix_bytes / 1e6:.1f} MB",
            "",
            *render(self.rows(), "bare", "sidecar", width=32),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [row_json(row) for row in self.rows()],
            "vsix_bytes": self.vsix_bytes,
            "cold_start_s": {
                version: {"bare": bare.__dict__, "sidecar": sidecar.__dict__}
                for version, (bare, sidecar) in self.cold_start_s.items()
            },
        }


async def run(plan: PythonsPlan, timeout: float) -> PythonsResults:
    folder = Path(tempfile.mkdtemp(prefix="cline-bridge-bench-vsix-"))
    try:
        try:
            unpacked = await asyncio.to_thread(unpack_vsix, VSIX, folder)
            pythons = {version: pyenv_python(version) for version in VERSIONS}
        except (VsixLayoutError, PythonMissing) as error:
            raise PythonsUnavailable(str(error)) from None
        runtime = folder / "run"
        runtime.mkdir(mode=0o700)
        results: dict[str, tuple[Stats, Stats]] = {}
        for version, python in pythons.items():
            abi = "cp3" + version.removeprefix("3.")
            # A private runtime folder: the sidecar's control endpoint starts as in VS Code.
            env = unpacked.sidecar_env(abi, XDG_RUNTIME_DIR=str(runtime))
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            cwd = str(unpacked.extension)
            bare = Side(
                f"bare {version}", [str(python), str(BARE_SERVER)], None, "", [], env=env, cwd=cwd
            )
            sidecar = Side(
                f"sidecar {version}",
                unpacked.sidecar_command(python),
                {"clineApi": True, "cline": UNGUARDED_CLINE},
                "",
                [],
                env=env,
                cwd=cwd,
            )
            bare_s, sidecar_s = await cold_start([bare, sidecar], plan.runs, plan.warmups, timeout)
            results[version] = (Stats.of(bare_s), Stats.of(sidecar_s))
        return PythonsResults(plan, results, VSIX.stat().st_size)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
