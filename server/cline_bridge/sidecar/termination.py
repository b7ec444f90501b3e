"""Ending the sidecar by a signal without leaving anything behind.

SIGTERM (an editor stopping its server, ``kill``) and SIGHUP (a closed terminal) end a Python
process at once: neither ``finally`` blocks nor ``atexit`` run. What the sidecar must not leave
behind (its discovery file and socket, its Cline CLI and what that started) registers a cleanup
here. On those signals the cleanups run, newest first, then the process ends as the signal would
have ended it, with the status an editor expects. A handler someone else installed is left in
place. Cleanups run in a signal handler: they must be quick and synchronous (unlink, kill).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)

_cleanups: dict[int, Callable[[], None]] = {}
_keys = itertools.count()
_installed = False


def on_signal_end(cleanup: Callable[[], None]) -> Callable[[], None]:
    """Run ``cleanup`` if a signal ends the process; return what unregisters it."""
    _install()
    key = next(_keys)
    _cleanups[key] = cleanup
    return lambda: _cleanups.pop(key, None) and None


def _install() -> None:
    global _installed
    if _installed or sys.platform == "win32":
        return
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    _installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _end)


def _end(signum: int, frame: FrameType | None) -> None:
    for cleanup in reversed(list(_cleanups.values())):
        with contextlib.suppress(Exception):
            cleanup()
    _cleanups.clear()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
