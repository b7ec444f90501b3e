"""ACP prompts from a task's text and images.

Cline CLI 3.0.65 advertises image prompts (``promptCapabilities.image``) but keeps only the text
blocks of a prompt: its ``prompt`` handler filters on ``type == "text"``. Its ``read_files`` tool
does pass an image file to the model, as an image part. So each image is sent both ways: as an
ACP image block, for an agent that honours them, and saved as a file that the prompt names, which
the agent can read (after asking, like any tool).
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cline_bridge.sidecar.arguments import TextAndImages
from cline_bridge.sidecar.images import split_data_url

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


class PromptBuilder:
    """Builds prompt blocks; owns the folder the images are saved in (removed by ``close``)."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._numbers = itertools.count(1)

    def blocks(self, content: TextAndImages) -> list[dict[str, Any]]:
        """The ACP content blocks: the text (naming the saved images), then the image blocks."""
        images = [split_data_url(data_url) for data_url in content.images]
        paths = [self._save(mime_type, data) for mime_type, data in images]
        text = content.text or ""
        if paths:
            listing = "\n".join(f"- {path}" for path in paths)
            text = f"{text}\n\nAttached images (read these files to see them):\n{listing}".lstrip()
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [{"type": "image", "mimeType": m, "data": data} for m, data in images]
        return blocks

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _save(self, mime_type: str, data: str) -> str:
        if self._folder is None:
            # Private to the user (mkdtemp makes it 0700): the images may be screenshots.
            self._folder = Path(tempfile.mkdtemp(prefix="cline-bridge-images-"))
        extension = _EXTENSIONS.get(mime_type, "img")
        path = self._folder / f"image-{next(self._numbers)}.{extension}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(base64.b64decode(data))
        return str(path)
