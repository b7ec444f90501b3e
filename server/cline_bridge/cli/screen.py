"""The terminal's size as ``shutil.get_terminal_size()`` says it, without importing shutil.

shutil brings bz2, lzma and zlib with it; a one-shot command that only wants a width should not
pay for them on every run.
"""

from __future__ import annotations

import os
import sys


def terminal_size(fallback: tuple[int, int] = (80, 24)) -> os.terminal_size:
    """``$COLUMNS`` and ``$LINES``, else the size of the terminal on stdout, else ``fallback``."""
    sizes = [_positive(os.environ.get("COLUMNS")), _positive(os.environ.get("LINES"))]
    stdout = sys.__stdout__
    if not all(sizes) and stdout is not None:
        try:
            measured = os.get_terminal_size(stdout.fileno())
        except (ValueError, OSError):  # not a terminal, or closed
            measured = os.terminal_size((0, 0))
        sizes = [given or found for given, found in zip(sizes, measured, strict=True)]
    return os.terminal_size(
        (given or default for given, default in zip(sizes, fallback, strict=True))
    )


def _positive(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return 0
    return max(number, 0)
