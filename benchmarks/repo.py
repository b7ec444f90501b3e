"""Puts the repository's root on ``sys.path``: the benchmarks drive the same fakes and helpers as
the test suite (``tests.fakes``, ``tests.support``). Import it before them. Also: where the
package this interpreter runs is, and its bytecode written as installing it does."""

from __future__ import annotations

import compileall
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def package_folders() -> list[Path]:
    """The folders of the ``cline_bridge`` this interpreter imports (an editable install: one);
    none when it is not installed."""
    spec = importlib.util.find_spec("cline_bridge")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(folder) for folder in spec.submodule_search_locations]


def compile_package(folder: Path) -> bool:
    """Write the bytecode of the package in ``folder``, as installing it does: commands and
    sidecars are timed as a user runs them, not compiling every module at every start (the
    environment may set PYTHONDONTWRITEBYTECODE). False if a module does not compile."""
    return bool(compileall.compile_dir(str(folder), quiet=1))
