from __future__ import annotations

from pathlib import Path

import pytest

from cline_bridge.sidecar.images import resolve_image, sniff_media_type
from tests.support.images import GIF_BYTES, JPEG_BYTES, PNG_BYTES, WEBP_BYTES, data_url


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG_BYTES, "image/png"),
        (JPEG_BYTES, "image/jpeg"),
        (GIF_BYTES, "image/gif"),
        (b"GIF87a" + GIF_BYTES[6:], "image/gif"),
        (WEBP_BYTES, "image/webp"),
        (b"RIFF\0\0\0\0WAVEfmt ", None),  # a RIFF file that is audio, not WebP
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_media_type(data: bytes, expected: str | None) -> None:
    assert sniff_media_type(data[:16]) == expected


async def test_a_data_url_with_an_upper_case_type_is_accepted() -> None:
    url = data_url("IMAGE/PNG", PNG_BYTES)

    assert await resolve_image(url) == url


async def test_home_relative_paths_are_expanded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "shot.png").write_bytes(PNG_BYTES)

    assert await resolve_image("~/shot.png") == data_url("image/png", PNG_BYTES)
