"""Fixtures for the Neovim tests: a runner whose files live in a temporary folder, and (from
tests/support/) the real Cline CLI in an isolated home behind the fake model server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.neovim.runner import NVIM, Neovim
from tests.support.cline_fixtures import cline_binary, cline_home, fake_model, no_leaked_cline

__all__ = ["cline_binary", "cline_home", "fake_model", "neovim", "no_leaked_cline", "nvim_binary"]


@pytest.fixture(scope="session")
def nvim_binary() -> Path:
    if not NVIM.is_file():
        pytest.fail(f"{NVIM} is missing: install Neovim 0.7+ (apt-get install neovim)")
    return NVIM


@pytest.fixture
def neovim(nvim_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neovim]:
    """A Neovim runner whose files live in a temporary folder, removed after the test."""
    root = tmp_path_factory.mktemp("neovim")
    try:
        yield Neovim(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
