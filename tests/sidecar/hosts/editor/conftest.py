"""Fixtures: a sidecar whose editor lends a Cline 4 that records its tasks
(tests/support/recording_cline.py), in a Cline folder and a runtime folder of the test's own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.control_sidecar import Sidecar, running_sidecar, runtime_dir, workspace
from tests.support.recording_cline import RecordingCline

__all__ = ["following", "recording", "runtime_dir", "workspace"]


@pytest.fixture
def recording(workspace: Path) -> RecordingCline:
    """Cline in this test's Cline folder (``tests/conftest.py``); this process plays the
    extension host whose tasks the sidecar follows."""
    return RecordingCline(Path(os.environ["CLINE_DIR"]) / "data", workspace, os.getpid())


@pytest_asyncio.fixture
async def following(
    runtime_dir: Path, workspace: Path, recording: RecordingCline
) -> AsyncIterator[Sidecar]:
    async with running_sidecar(runtime_dir, workspace, options=recording.options) as sidecar:
        sidecar.editor.cline.acts = recording
        yield sidecar
