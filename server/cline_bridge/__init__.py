"""cline-bridge: drive the Cline coding agent from outside its panel."""

from __future__ import annotations

__version__ = "0.1.0"
