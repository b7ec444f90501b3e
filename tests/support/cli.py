"""``cline-bridge`` run as a user runs it, for tests that judge what it prints."""

from __future__ import annotations

import subprocess
import sys


def run_cli(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python -m cline_bridge ARGS`` with ``env``, empty stdin and output captured as text;
    ``timeout`` bounds the whole run."""
    return subprocess.run(
        [sys.executable, "-m", "cline_bridge", *args],
        input="",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
