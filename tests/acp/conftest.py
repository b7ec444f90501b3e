"""Tests that run the real Cline CLI (``cline --acp``) offline against the fake model server."""

from __future__ import annotations

import pytest

from tests.support.cline_fixtures import (
    cline_agent,
    cline_binary,
    cline_home,
    fake_model,
    no_leaked_cline,
)

__all__ = ["cline_agent", "cline_binary", "cline_home", "fake_model", "no_leaked_cline"]


@pytest.fixture(autouse=True)
def _no_leaked_cline(no_leaked_cline: None) -> None:
    """Every test here must leave no Cline process behind."""
