"""Fixtures for the Emacs tests: a runner whose files live in a temporary folder, and (from
tests/support/) the real Cline CLI in an isolated home behind the fake model server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.emacs.runner import EMACS, Emacs
from tests.support.cline_fixtures import cline_binary, cline_home, fake_model, no_leaked_cline

__all__ = ["cline_binary", "cline_home", "emacs", "emacs_binary", "fake_model", "no_leaked_cline"]


@pytest.fixture(scope="session")
def emacs_binary() -> Path:
    if not EMACS.is_file():
        pytest.fail(f"{EMACS} is missing: run `make e2e-tools` (Debian's emacs-nox and elpa-eglot)")
    return EMACS


@pytest.fixture
def emacs(emacs_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emacs]:
    """An Emacs runner whose files live in a temporary folder, removed after the test."""
    root = tmp_path_factory.mktemp("emacs")
    try:
        yield Emacs(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
