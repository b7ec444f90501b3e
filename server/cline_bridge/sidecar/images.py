"""Images for Cline tasks: data URLs pass through, local files become data URLs.

Cline's API takes images as ``data:image/<type>;base64,...`` URLs. Editors and scripts more often
hold a file, so a path or ``file:`` URI is read here, identified by its magic bytes (never by its
name) and encoded. Anything that is not a PNG, JPEG, GIF or WebP image is refused with a message
that says why, as is an image over ``MAX_IMAGE_BYTES``. One command's images together are held
to ``MAX_IMAGES`` and ``MAX_TOTAL_IMAGE_BYTES``: the sidecar holds them, base64 and in the
message it forwards, several times over, so a short request naming one big file twenty times
must not cost gigabytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""The largest image accepted, in bytes of image data (before base64)."""
MAX_TOTAL_IMAGE_BYTES = 40 * 1024 * 1024
"""The most image data one command may carry, all its images together (two of the largest)."""
MAX_IMAGES = 20
"""The most images one command may carry."""

MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

_DATA_URL = re.compile(r"data:(?P<media>[^;,]+);base64,(?P<data>.*)", re.DOTALL)


class ImageError(ValueError):
    """An image reference that cannot be used; the message says why."""


def sniff_media_type(head: bytes) -> str | None:
    """The media type of an image from its first bytes, or None if it is none of ours."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def to_data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def split_data_url(url: str) -> tuple[str, str]:
    """The lower-case media type and the base64 payload of a data URL ``resolve_image`` made."""
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise ImageError("a data URL must look like data:image/png;base64,<data>")
    return match["media"].lower(), match["data"]


async def resolve_image(reference: str, room: int = MAX_IMAGE_BYTES) -> str:
    """Turn one image reference into a data URL, or raise ``ImageError``.

    A reference is a data URL, an absolute file path (``~`` is expanded) or a ``file:`` URI.
    Files are read in a worker thread so a large image does not stall the server. ``room`` is
    what is left of the command's ``MAX_TOTAL_IMAGE_BYTES``: a larger image is refused before it
    is read or decoded.
    """
    limit = _Limit(min(room, MAX_IMAGE_BYTES), total=room < MAX_IMAGE_BYTES)
    if reference.startswith("data:"):
        return _check_data_url(reference, limit)
    path = _path_of(reference)
    return await asyncio.to_thread(_read_image_file, path, limit)


def data_url_size(url: str) -> int:
    """The bytes of image data a data URL holds (what counts against the limits)."""
    payload = url.partition(",")[2]
    return len(payload) * 3 // 4 - payload[-2:].count("=")


class _Limit:
    """The most bytes an image may hold here, and whether the command's total set it."""

    def __init__(self, size: int, *, total: bool) -> None:
        self.size = size
        self.total = total

    def too_big(self, size: int | None = None) -> str:
        if self.total:
            return (
                f"the images of one command may hold {MAX_TOTAL_IMAGE_BYTES // (1024 * 1024)} "
                "MiB together, and this one is over what is left"
            )
        return _too_big_message(size)


def _check_data_url(url: str, limit: _Limit) -> str:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise ImageError("a data URL must look like data:image/png;base64,<data>")
    media_type = match["media"].lower()
    if media_type not in MEDIA_TYPES:
        raise ImageError(f"unsupported type {media_type}; expected one of {', '.join(MEDIA_TYPES)}")
    # Base64 inflates by 4/3: reject an oversized image before decoding it.
    if len(match["data"]) > (limit.size * 4) // 3 + 4:
        raise ImageError(limit.too_big())
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the data URL's payload is not valid base64") from None
    if len(data) > limit.size:
        raise ImageError(limit.too_big(len(data)))
    actual = sniff_media_type(data[:16])
    if actual != media_type:
        raise ImageError(
            f"the data URL says {media_type} but its data is {actual or 'not an image'}"
        )
    return url


def _path_of(reference: str) -> Path:
    if reference.startswith("file:"):
        parsed = urlparse(reference)
        if parsed.netloc not in ("", "localhost"):
            raise ImageError(f"file URI with a remote host is not supported: {reference}")
        path = Path(unquote(parsed.path))
    else:
        path = Path(reference).expanduser()
    if "\0" in str(path):
        raise ImageError("a path cannot hold a NUL character")
    if not path.is_absolute():
        raise ImageError(
            f"{reference!r} is neither a data URL nor an absolute path or file: URI "
            "(the sidecar's working directory is not the caller's)"
        )
    return path


def _read_image_file(path: Path, limit: _Limit) -> str:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ImageError(f"{path} is not a file")
        if size > limit.size:
            raise ImageError(f"{path}: {limit.too_big(size)}")
        with path.open("rb") as file:  # read no more than allowed, whatever stat said
            data = file.read(limit.size + 1)
        if len(data) > limit.size:
            raise ImageError(f"{path}: {limit.too_big()}")
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise ImageError(f"{path} is not a file") from None
    except OSError as error:
        raise ImageError(f"{path}: cannot be read ({error.strerror or error})") from None
    media_type = sniff_media_type(data[:16])
    if media_type is None:
        raise ImageError(f"{path} is not a PNG, JPEG, GIF or WebP image")
    return to_data_url(media_type, data)


def _too_big_message(size: int | None = None) -> str:
    limit = f"the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MiB"
    if size is None:
        return f"image too large: {limit}"
    return f"image too large ({size / (1024 * 1024):.1f} MiB): {limit}"
