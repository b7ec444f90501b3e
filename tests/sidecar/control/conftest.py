"""Fixtures: a sidecar with an editor connection (the pytest-lsp client playing the extension)
and its control endpoint, in a private runtime folder per test (from
``tests.support.control_sidecar``)."""

from __future__ import annotations

from tests.support.control_sidecar import runtime_dir, sidecar, workspace

__all__ = ["runtime_dir", "sidecar", "workspace"]
