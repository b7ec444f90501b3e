"""Where scripts/install-e2e-tools.sh puts the heavy test tools, for every test tier that runs them.

One copy of the script's rule: versions come from scripts/e2e-tools.env, and each tool lives in
``${CLINE_BRIDGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cline-bridge}/<tool>-<version>``.
No pytest here, so benchmarks can import it too.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV_FILE = REPO / "scripts" / "e2e-tools.env"


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of a shell env file (comments and blank lines skipped)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip().strip("\"'")
    return pairs


def tool_versions() -> dict[str, str]:
    """The pinned versions, e.g. ``{"CLINE_CLI_VERSION": "3.0.65", …}``."""
    return read_env_file(ENV_FILE)


def tools_cache() -> Path:
    """The folder the install script installs into: the same rule, in the same order."""
    if explicit := os.environ.get("CLINE_BRIDGE_TOOLS_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cline-bridge"
