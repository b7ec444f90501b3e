"""Validation of the task commands' arguments (docs/protocol.md, "Task commands").

The contract admits two forms for each task command, positional (``[task?, images?]``) and one
object (``[{"task"?, "images"?}]``), which is why these commands take ``*arguments`` instead of a
typed signature that pygls could structure for us. Every message names the command and the argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cline_bridge.sidecar.images import (
    MAX_IMAGES,
    MAX_TOTAL_IMAGE_BYTES,
    ImageError,
    data_url_size,
    resolve_image,
)
from cline_bridge.sidecar.settings import type_name
from cline_bridge.wire.errors import InvalidArgumentsError


@dataclass(frozen=True)
class TextAndImages:
    """The text and images of ``startNewTask`` or ``sendMessage``; images are data URLs."""

    text: str | None
    images: tuple[str, ...]

    def as_params(self, text_key: str) -> dict[str, Any]:
        """The ClineAPI request's params, leaving out what the caller did not give."""
        params: dict[str, Any] = {}
        if self.text is not None:
            params[text_key] = self.text
        if self.images:
            params["images"] = list(self.images)
        return params


async def parse_text_and_images(
    command: str, arguments: Sequence[Any], text_key: str
) -> TextAndImages:
    """Validate ``[text?, images?]`` or ``[{text_key?, "images"?}]`` and resolve the images."""
    if len(arguments) == 1 and isinstance(arguments[0], Mapping):
        text, images = _from_object(command, arguments[0], text_key)
    elif len(arguments) <= 2:
        text = arguments[0] if len(arguments) > 0 else None
        images = arguments[1] if len(arguments) > 1 else None
    else:
        raise InvalidArgumentsError(
            f"{command} takes [{text_key}?, images?] or [{{{text_key!r}?, 'images'?}}], "
            f"got {len(arguments)} arguments"
        )
    if text is not None and not isinstance(text, str):
        raise InvalidArgumentsError(
            f"{command}: {text_key} must be a string, not {type_name(text)}"
        )
    return TextAndImages(text, await _resolve_images(command, images))


def parse_button_arguments(command: str, arguments: Sequence[Any]) -> bool:
    """Accept ``[]`` or ``[{"force"?: bool}]``; return ``force``."""
    if len(arguments) == 0:
        return False
    options = arguments[0] if len(arguments) == 1 else None
    if not isinstance(options, Mapping):
        raise InvalidArgumentsError(f"{command} takes [] or [{{'force'?: boolean}}]")
    if unknown := sorted(set(options) - {"force"}):
        raise InvalidArgumentsError(f"{command}: unknown key {unknown[0]!r} (expected 'force')")
    force = options.get("force", False)
    if not isinstance(force, bool):
        raise InvalidArgumentsError(f"{command}: force must be a boolean, not {type_name(force)}")
    return force


def _from_object(command: str, options: Mapping[str, Any], text_key: str) -> tuple[Any, Any]:
    unknown = sorted(set(options) - {text_key, "images"})
    if unknown:
        raise InvalidArgumentsError(
            f"{command}: unknown key {unknown[0]!r} (expected {text_key!r} and 'images')"
        )
    return options.get(text_key), options.get("images")


async def _resolve_images(command: str, images: Any) -> tuple[str, ...]:
    if images is None:
        return ()
    if not isinstance(images, list):
        raise InvalidArgumentsError(
            f"{command}: images must be an array of strings, not {type_name(images)}"
        )
    if len(images) > MAX_IMAGES:
        raise InvalidArgumentsError(
            f"{command}: {len(images)} images; one command may carry {MAX_IMAGES}"
        )
    resolved = []
    room = MAX_TOTAL_IMAGE_BYTES
    for index, reference in enumerate(images):
        if not isinstance(reference, str):
            raise InvalidArgumentsError(
                f"{command}: images[{index}] must be a string, not {type_name(reference)}"
            )
        try:
            resolved.append(await resolve_image(reference, room))
        except ImageError as error:
            raise InvalidArgumentsError(f"{command}: images[{index}]: {error}") from None
        room -= data_url_size(resolved[-1])
    return tuple(resolved)
