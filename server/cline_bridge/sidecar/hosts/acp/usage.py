"""A turn's usage (tokens and cost) for the ACP host's ``turnEnd``, from Cline's session manifest.

The Cline CLI sends no usage over ACP (3.0.65 answers ``session/prompt`` with the stop reason
alone), but records the task's totals in ``<data dir>/sessions/<id>/<id>.json`` before it answers
(cline_records). Reading that file must neither stall the event loop nor hold up the end of the
turn for long, and a failure is only a usage not known: ``turnEnd`` then says ``null``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from cline_bridge.sidecar.cline_records import Usage, read_usage

logger = logging.getLogger(__name__)

READ_TIMEOUT = 2.0
"""Seconds the end of a turn waits for the manifest (a local file of at most 1 MiB: a
millisecond, as a rule)."""


async def turn_usage(data_dir: Path, session_id: str) -> Usage | None:
    """The usage Cline recorded for session ``session_id`` so far; None if it cannot be known."""
    try:
        # A thread: even a small file can be slow to read (a network home, a busy disk).
        return await asyncio.wait_for(
            asyncio.to_thread(read_usage, data_dir, session_id), READ_TIMEOUT
        )
    except Exception as error:  # any failure is only a usage not known
        logger.debug("no usage for task %s from %s: %r", session_id, data_dir, error)
        return None
