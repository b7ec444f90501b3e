"""Fixtures shared by every tier of the suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI
from tests.support.images import PNG_BYTES


@pytest.fixture(autouse=True)
def _own_cline_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test, and every sidecar it starts, gets an empty Cline folder of its own: never the
    user's ~/.cline, whose task records the editor host would read."""
    monkeypatch.setenv("CLINE_DIR", str(tmp_path_factory.mktemp("cline")))
    monkeypatch.delenv("CLINE_DATA_DIR", raising=False)


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "screenshot.png"
    path.write_bytes(PNG_BYTES)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that need the machine to themselves (code-server) after everything else."""
    items.sort(key=lambda item: item.get_closest_marker("alone") is not None)


@pytest.fixture
def fake_api() -> Iterator[FakeClineAPI]:
    """A started fake Cline API; closed, with all its threads, when the test ends."""
    fake = FakeClineAPI()
    try:
        yield fake
    finally:
        fake.close()
