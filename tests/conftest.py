"""Fixtures shared by every tier of the suite."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.cline_api import FakeClineAPI

SERVER_COMMAND = [sys.executable, "-m", "cline_bridge", "serve", "--stdio"]

# The smallest valid headers of each supported image type, enough for magic-byte detection.
PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF_BYTES = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
WEBP_BYTES = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "screenshot.png"
    path.write_bytes(PNG_BYTES)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the end-to-end tests (real editors, seconds each) after everything else."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture
def fake_api() -> Iterator[FakeClineAPI]:
    """A started fake Cline API; closed, with all its threads, when the test ends."""
    fake = FakeClineAPI()
    try:
        yield fake
    finally:
        fake.close()
