"""Hostile command arguments: each gets one clear -32602, costs no more than its limits allow, and
the sidecar goes on serving. The same registry runs commands for the editor and for scripts, so
the editor's connection stands for both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cline_bridge.sidecar.commands import MAX_ARGUMENT_DEPTH
from cline_bridge.sidecar.images import MAX_IMAGE_BYTES, MAX_IMAGES
from tests.robustness.canary import CANARY_KEY
from tests.support.control_sidecar import Sidecar, running_sidecar, runtime_dir, workspace
from tests.support.editor_double import DOUBLE_OPTIONS, STARTED
from tests.support.images import PNG_BYTES
from tests.support.sidecar import execute, execute_error

__all__ = ["runtime_dir", "workspace"]

START = "clineBridge.startNewTask"
LONE_SURROGATE = "\ud800"
MiB = 1024 * 1024


@pytest_asyncio.fixture
async def sidecar(runtime_dir: Path, workspace: Path) -> AsyncIterator[Sidecar]:
    options = {**DOUBLE_OPTIONS, "apiKey": CANARY_KEY}
    async with running_sidecar(runtime_dir, workspace, options=options) as started:
        yield started


async def refused(sidecar: Sidecar, command: str, *arguments: Any) -> str:
    """The -32602 message ``command`` is answered with; checks that nothing reached Cline and
    that the sidecar goes on serving."""
    error = await execute_error(sidecar.editor, command, *arguments)
    assert error.code == -32602, error
    assert CANARY_KEY not in repr(error)
    assert sidecar.editor.cline.calls == []
    assert await execute(sidecar.editor, START, "still here") == STARTED
    sidecar.editor.cline.calls.clear()
    return str(error.message)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
async def test_one_big_file_named_many_times_is_refused_before_it_costs_gigabytes(
    sidecar: Sidecar, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as file:  # sparse: a PNG header, then 20 MiB of nothing
        file.write(PNG_BYTES)
        file.truncate(MAX_IMAGE_BYTES)
    pid = (await execute(sidecar.editor, "clineBridge.status"))["pid"]

    message = await refused(sidecar, START, "look", [str(big)] * MAX_IMAGES)

    assert message == (
        f"{START}: images[2]: {big}: the images of one command may hold 40 MiB together, and "
        "this one is over what is left"
    )
    # Two images read and encoded, the third refused by its size, before it was read.
    assert peak_rss_mib(pid) < 400, "an earlier sidecar used 2.3 GB here"


async def test_more_images_than_one_command_may_carry(sidecar: Sidecar, png_file: Path) -> None:
    message = await refused(sidecar, START, "look", [str(png_file)] * (MAX_IMAGES + 1))

    assert message == f"{START}: {MAX_IMAGES + 1} images; one command may carry {MAX_IMAGES}"


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        pytest.param("file:img/real.png", "is neither a data URL nor an absolute", id="relative"),
        pytest.param("/tmp/a\x00.png", "a path cannot hold a NUL character", id="NUL"),
        pytest.param("file:///tmp/a%00.png", "a path cannot hold a NUL character", id="NUL URI"),
    ],
)
async def test_image_paths_that_cannot_be_files(
    sidecar: Sidecar, workspace: Path, reference: str, why: str
) -> None:
    (workspace / "img").mkdir()
    (workspace / "img" / "real.png").write_bytes(PNG_BYTES)  # where a relative one might land

    message = await refused(sidecar, START, "look", [reference])

    assert message.startswith(f"{START}: images[0]: ")
    assert why in message


@pytest.mark.parametrize(
    ("command", "arguments", "where"),
    [
        pytest.param(START, [f"fix {LONE_SURROGATE}"], "arguments[0]", id="task"),
        pytest.param(
            START, ["look", [f"/tmp/{LONE_SURROGATE}.png"]], "arguments[1][0]", id="image"
        ),
        pytest.param(
            "clineBridge.chat", [{"prompt": LONE_SURROGATE}], "arguments[0].prompt", id="chat"
        ),
        pytest.param(
            "clineBridge.sendMessage", [{LONE_SURROGATE: "x"}], "a key of arguments[0]", id="key"
        ),
    ],
)
async def test_text_that_is_not_unicode_is_refused_where_it_is(
    sidecar: Sidecar, command: str, arguments: list[Any], where: str
) -> None:
    message = await refused(sidecar, command, *arguments)

    assert message == f"{command}: {where} is not valid Unicode text (it holds a lone surrogate)"
    json.dumps(message, ensure_ascii=False).encode()  # the answer itself is valid UTF-8


async def test_arguments_nested_too_deep(sidecar: Sidecar) -> None:
    nested: Any = "deep"
    for _ in range(MAX_ARGUMENT_DEPTH + 5):
        nested = [nested]

    message = await refused(sidecar, "clineBridge.sendMessage", nested)

    assert message == (
        f"clineBridge.sendMessage: arguments nest over {MAX_ARGUMENT_DEPTH} levels deep"
    )
