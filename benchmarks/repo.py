"""Puts the repository's root on ``sys.path``: the benchmarks drive the same fakes and helpers as
the test suite (``tests.fakes``, ``tests.support``). Import it before them."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
