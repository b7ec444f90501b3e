"""``PromptBuilder``: ACP prompt blocks, and the private files that carry the images."""

from __future__ import annotations

import base64
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.hosts.acp.prompts import PromptBuilder
from tests.support.images import JPEG_BYTES, PNG_BYTES, data_url


@pytest.fixture
def builder() -> Iterator[PromptBuilder]:
    prompts = PromptBuilder()
    try:
        yield prompts
    finally:
        prompts.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_image_is_saved_privately_and_named_in_the_text(builder: PromptBuilder) -> None:
    png = data_url("image/png", PNG_BYTES)

    text_block, image_block = builder.blocks(TextAndImages("what is this?", (png,)))

    assert text_block["type"] == "text"
    lines = text_block["text"].splitlines()
    assert lines[:3] == ["what is this?", "", "Attached images (read these files to see them):"]
    path = Path(lines[3].removeprefix("- "))
    assert path.name == "image-1.png"
    assert path.read_bytes() == PNG_BYTES
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert image_block == {
        "type": "image",
        "mimeType": "image/png",
        "data": base64.b64encode(PNG_BYTES).decode(),
    }


def test_images_share_one_folder_and_close_removes_it(builder: PromptBuilder) -> None:
    first = builder.blocks(TextAndImages(None, (data_url("image/png", PNG_BYTES),)))
    second = builder.blocks(TextAndImages("again", (data_url("image/jpeg", JPEG_BYTES),)))

    # Without text, the prompt is the listing alone.
    assert first[0]["text"].startswith("Attached images")
    paths = [
        Path(blocks[0]["text"].splitlines()[-1].removeprefix("- ")) for blocks in (first, second)
    ]
    assert [path.name for path in paths] == ["image-1.png", "image-2.jpg"]
    assert paths[0].parent == paths[1].parent
    assert second[1]["mimeType"] == "image/jpeg"

    builder.close()

    assert not paths[0].parent.exists()
    builder.close()  # twice is harmless


def test_text_only_is_one_text_block(builder: PromptBuilder) -> None:
    assert builder.blocks(TextAndImages("just text", ())) == [{"type": "text", "text": "just text"}]


def test_nothing_is_no_blocks(builder: PromptBuilder) -> None:
    assert builder.blocks(TextAndImages(None, ())) == []
    assert builder.blocks(TextAndImages("", ())) == []


def test_close_without_images_is_harmless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    builder = PromptBuilder()
    builder.blocks(TextAndImages("text only", ()))

    builder.close()

    assert list(tmp_path.iterdir()) == [], "no image folder was made, so none is left behind"
