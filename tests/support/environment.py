"""The environment a test gives the processes it starts."""

from __future__ import annotations

import os
from collections.abc import Mapping

KEPT_CLINE_VARIABLES = frozenset({"CLINE_DIR", "CLINE_DATA_DIR"})
"""Where Cline keeps its records: the suite points these at a folder of the test's own (see
``tests/conftest.py``), so a child must see them, never the user's ``~/.cline``."""


def without_cline_settings(
    base: Mapping[str, str] | None = None, /, **extra: str
) -> dict[str, str]:
    """``base`` (default: ours) without any inherited ``CLINE_*`` setting (a user's key, a bridge
    to reach, an agent command), so the test chooses them all; plus ``extra``."""
    inherited = os.environ if base is None else base
    kept = {
        name: value
        for name, value in inherited.items()
        if not name.startswith("CLINE_") or name in KEPT_CLINE_VARIABLES
    }
    return kept | extra
