"""Images: data URLs pass through, files become data URLs, everything else is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from cline_bridge.sidecar.images import MAX_IMAGE_BYTES
from tests.support.editor_double import EditorClient
from tests.support.images import GIF_BYTES, JPEG_BYTES, PNG_BYTES, WEBP_BYTES, data_url
from tests.support.sidecar import execute, execute_error


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("a.png", PNG_BYTES, "image/png"),
        ("photo.JPG", JPEG_BYTES, "image/jpeg"),
        ("anim.gif", GIF_BYTES, "image/gif"),
        ("pic.webp", WEBP_BYTES, "image/webp"),
        ("misnamed.txt", PNG_BYTES, "image/png"),  # identified by content, not by name
    ],
)
async def test_image_files_become_data_urls(
    editor: EditorClient, tmp_path: Path, name: str, data: bytes, media_type: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)

    await execute(editor, "clineBridge.sendMessage", "see image", [str(path)])

    assert editor.cline.calls == [
        (
            "clineBridge/sendMessage",
            {"message": "see image", "images": [data_url(media_type, data)]},
        )
    ]


async def test_data_urls_pass_through_unchanged(editor: EditorClient) -> None:
    urls = [data_url("image/jpeg", JPEG_BYTES), data_url("image/webp", WEBP_BYTES)]

    await execute(editor, "clineBridge.startNewTask", {"task": "compare", "images": urls})

    assert editor.cline.calls == [("clineBridge/startNewTask", {"task": "compare", "images": urls})]


async def test_file_uris_with_escaped_characters_are_read(
    editor: EditorClient, tmp_path: Path
) -> None:
    path = tmp_path / "screen shot ü.png"
    path.write_bytes(PNG_BYTES)

    await execute(editor, "clineBridge.startNewTask", "look", [path.as_uri()])

    assert editor.cline.calls[0][1]["images"] == [data_url("image/png", PNG_BYTES)]


def _too_big_png(tmp_path: Path) -> str:
    path = tmp_path / "huge.png"
    with path.open("wb") as file:
        file.write(PNG_BYTES)
        file.truncate(MAX_IMAGE_BYTES + 1)
    return str(path)


@pytest.mark.parametrize(
    ("make_reference", "expected"),
    [
        (lambda tmp: str(tmp / "missing.png"), "missing.png: no such file"),
        (lambda tmp: str(tmp), "is not a file"),
        (lambda tmp: "relative/shot.png", "neither a data URL nor an absolute path"),
        (lambda tmp: "https://example.com/a.png", "neither a data URL nor an absolute path"),
        (lambda tmp: "file://server/share/a.png", "file URI with a remote host"),
        (lambda tmp: data_url("image/svg+xml", b"<svg/>"), "unsupported type image/svg+xml"),
        (lambda tmp: "data:image/png;base64,%%%", "not valid base64"),
        (lambda tmp: "data:image/png,rawdata", "must look like data:image/png;base64,"),
        (
            lambda tmp: data_url("image/png", b"hello"),
            "says image/png but its data is not an image",
        ),
        (
            lambda tmp: data_url("image/png", JPEG_BYTES),
            "says image/png but its data is image/jpeg",
        ),
        (_too_big_png, "image too large (20.0 MiB): the limit is 20 MiB"),
        (
            lambda tmp: data_url("image/png", PNG_BYTES + b"\0" * MAX_IMAGE_BYTES),
            "image too large: the limit is 20 MiB",
        ),
    ],
    ids=[
        "missing",
        "directory",
        "relative",
        "http",
        "remote-file-uri",
        "svg",
        "bad-base64",
        "not-base64",
        "text-as-png",
        "jpeg-as-png",
        "file-too-big",
        "data-url-too-big",
    ],
)
async def test_unusable_images_are_invalid_arguments(
    editor: EditorClient, tmp_path: Path, make_reference: object, expected: str
) -> None:
    reference = make_reference(tmp_path)  # type: ignore[operator]

    error = await execute_error(editor, "clineBridge.startNewTask", "task", [reference])

    assert error.code == -32602
    assert error.message.startswith("clineBridge.startNewTask: images[0]: ")
    assert expected in error.message
    assert editor.cline.calls == []


async def test_a_text_file_is_not_an_image(editor: EditorClient, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("just text")

    error = await execute_error(editor, "clineBridge.sendMessage", "x", [str(notes)])

    assert (
        error.message
        == f"clineBridge.sendMessage: images[0]: {notes} is not a PNG, JPEG, GIF or WebP image"
    )
