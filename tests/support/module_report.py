"""Run cline-bridge, or a snippet of library code, then report every module that was loaded.

    python module_report.py REPORT -- ARG...     cline_bridge.cli.main([ARG, ...])
    python module_report.py REPORT --code CODE   exec(CODE)

REPORT gets a JSON list of the names in ``sys.modules`` as the process exits, after the command
ran to its end: so a test sees what a run loaded, not only what an import loads. Run it as a
script (by path), so that nothing of the test suite is imported on the way.
"""

from __future__ import annotations

import atexit
import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path

HEAVY = ("pygls", "lsprotocol", "cattrs", "attrs", "pydantic", "pydantic_core", "httpx", "asyncio")
"""The packages a lean path should not need: the sidecar's, the REST client's, the event loop."""


def main() -> None:
    report, how, *rest = sys.argv[1:]

    def write() -> None:
        with open(report, "w", encoding="utf-8") as file:
            json.dump(sorted(sys.modules), file)

    atexit.register(write)
    if how == "--code":
        exec(rest[0], {"__name__": "__snippet__"})
        return
    from cline_bridge.cli import main as cli_main

    sys.argv[0] = "cline-bridge"
    sys.exit(cli_main(rest))


def run_reporting(
    how: Sequence[str],
    report: Path,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 60.0,
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run this script (``how``: ``["--", ARG...]`` or ``["--code", CODE]``) in a fresh
    interpreter; return how it went and the modules it had loaded by its end."""
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, str(report), *how],
        cwd=cwd,
        env=env,
        input=input_text if input_text is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    modules = set(json.loads(report.read_text())) if report.is_file() else set()
    assert modules, f"no module report: exit {done.returncode}, stderr {done.stderr!r}"
    return done, modules


def loaded(modules: Collection[str], packages: Sequence[str] = HEAVY) -> list[str]:
    """Which of ``packages`` (each with its submodules) are among ``modules``."""
    return sorted(
        package
        for package in packages
        if any(name == package or name.startswith(package + ".") for name in modules)
    )


if __name__ == "__main__":
    main()
