"""Watching Cline's data folder for its task records, off the event loop.

A thread of its own waits on the operating system's file notifications (watchfiles: inotify,
FSEvents, ReadDirectoryChangesW), reads the sessions that changed and hands each reading to the
event loop (``on_session``). It first takes in the sessions already there (``on_learn``), once
the watch is in place, so that nothing written meanwhile is missed. Reading happens here too, so
that a large conversation never stalls the loop.

Only sessions of this window are read whole: a manifest is read first, and a session whose
``pid`` is another window's is skipped from then on (``is_ours``). What is read is what the
notifications named: a file is read after each change reported, never skipped for looking the
same (two writes within a clock tick can leave the same size and mtime: ``running`` and
``pending`` are both seven letters), and a conversation is not read again when only its manifest
changed. A file that is half-written
is read again a moment later; one of an unknown version stops the watch, and ``on_unreadable``
says why; a task whose records are over their size bound is left out (with a warning).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cline_bridge.sidecar.cline_records import RecordNotReady, RecordTooLarge
from cline_bridge.sidecar.hosts.editor.records import (
    Session,
    UnknownRecord,
    messages_path,
    read_manifest,
    read_messages,
)

if TYPE_CHECKING:
    from watchfiles import Change

    Watch = Callable[..., Iterator[set[tuple[Change, str]]]]

T = TypeVar("T")
logger = logging.getLogger(__name__)

STEP_MS = 20
"""How often the watch looks at what the operating system reported; the latency of an event."""
DEBOUNCE_MS = 100
"""While writes keep coming, the longest a reading waits for them to stop."""
QUIET_MS = 500
"""With nothing reported for this long the watch wakes once (to notice a stop)."""
FOLDER_WAIT = 2.0
"""Seconds between two looks for a sessions folder that Cline has not made yet."""
READ_TRIES, READ_PAUSE = 5, 0.02
"""A half-written file is read again this many times, this many seconds apart."""
STOP_WAIT = 2.0


class RecordsWatcher:
    """The watch of ``sessions_dir``; ``start`` it with the loop the callbacks run on."""

    def __init__(
        self,
        sessions_dir: Path,
        *,
        is_ours: Callable[[str, int | None], bool],
        on_learn: Callable[[Sequence[Session]], None],
        on_session: Callable[[Session], None],
        on_unreadable: Callable[[str], None],
    ) -> None:
        self.sessions_dir = sessions_dir
        self._is_ours = is_ours
        self._on_learn = on_learn
        self._on_session = on_session
        self._on_unreadable = on_unreadable
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._read_once: set[Path] = set()
        """Sessions whose conversation was read whole at least once."""
        self._too_large: set[Path] = set()
        """Sessions already reported as too large to follow."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="cline-records", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT)

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            from watchfiles import watch  # here: only a sidecar that follows Cline needs it
        except ImportError as error:
            self._call(self._on_unreadable, f"the file watcher cannot be loaded ({error})")
            return
        fresh = False
        """The sessions folder did not exist when the watch began: whatever comes is news."""
        while not self._stop.is_set():
            try:
                if self.sessions_dir.is_dir():
                    self._watch_sessions(watch, fresh=fresh)
                else:
                    if not fresh:
                        self._call(self._on_learn, [])  # no task recorded yet: nothing to learn
                    fresh = True
                    self._wait_for_sessions(watch)
            except UnknownRecord as error:
                self._call(self._on_unreadable, str(error))
                return
            except Exception as error:  # the folder went away, or the watch failed
                logger.warning("watching %s: %s", self.sessions_dir, error)
                self._stop.wait(FOLDER_WAIT)

    def _wait_for_sessions(self, watch: Watch) -> None:
        """Wait for Cline to make the sessions folder (with its first task): watch the nearest
        folder above it that exists, not recursively."""
        ancestor = next(p for p in self.sessions_dir.parents if p.is_dir())
        logger.debug("waiting for %s from %s", self.sessions_dir, ancestor)
        for _ in watch(ancestor, recursive=False, **self._watch_options()):
            if self.sessions_dir.is_dir() or self._stop.is_set():
                return

    def _watch_sessions(self, watch: Watch, *, fresh: bool) -> None:
        """Watch the sessions folder. What is there is taken in first: learnt, or, in a
        ``fresh`` folder that Cline made since the bridge looked, read as news (every task in it
        started since). Once the watch is in place (its first yield) every session is read
        again, so that nothing written in between is missed: the tracker tells only what is
        new."""
        if fresh:
            for folder in sorted(self.sessions_dir.iterdir()):
                self._tell(folder, None)
        else:
            self._learn()
        first = True
        for batch in watch(self.sessions_dir, **self._watch_options()):
            named: dict[Path, set[str]] = {}
            """Each session folder in the batch, with the names of its files that changed."""
            for _, path in batch:
                if (session_folder := self._session_folder(Path(path))) is not None:
                    named.setdefault(session_folder, set()).add(Path(path).name)
            whole = set(self.sessions_dir.iterdir()) if first else set()
            first = False
            for folder in sorted(named.keys() | whole):
                self._tell(folder, None if folder in whole else named[folder])

    def _tell(self, folder: Path, names: set[str] | None) -> None:
        """Hand a new reading of ``folder`` to the loop (if it is a session of this window)."""
        if folder.is_dir() and (session := self._read(folder, names)) is not None:
            self._call(self._on_session, session)

    def _watch_options(self) -> dict[str, object]:
        return {
            "watch_filter": None,
            "debounce": DEBOUNCE_MS,
            "step": STEP_MS,
            "rust_timeout": QUIET_MS,
            "yield_on_timeout": True,
            "stop_event": self._stop,
            "raise_interrupt": False,
        }

    def _learn(self) -> None:
        sessions = []
        for folder in sorted(self.sessions_dir.iterdir()):
            if folder.is_dir() and (session := self._read(folder, None)) is not None:
                sessions.append(session)
        sessions.sort(key=lambda session: session.manifest.started_at)
        self._call(self._on_learn, sessions)

    def _read(self, folder: Path, names: set[str] | None) -> Session | None:
        """The session in ``folder`` if it is this window's; its conversation only if one of
        ``names`` (None: any file) is its messages file, or it was never read."""
        try:
            return self._read_session(folder, names)
        except RecordTooLarge as error:
            if folder not in self._too_large:
                self._too_large.add(folder)
                logger.warning("Cline's task %s is not followed: %s", folder.name, error)
            return None

    def _read_session(self, folder: Path, names: set[str] | None) -> Session | None:
        manifest = self._read_with_retries(lambda: read_manifest(folder))
        if manifest is None or not self._is_ours(manifest.session_id, manifest.pid):
            return None
        only_the_manifest = names is not None and messages_path(folder).name not in names
        if only_the_manifest and folder in self._read_once:
            return Session(manifest, None)
        messages = self._read_with_retries(lambda: read_messages(folder))
        if messages is None:
            return None
        self._read_once.add(folder)
        return Session(manifest, messages)

    def _read_with_retries(self, read: Callable[[], T]) -> T | None:
        for attempt in range(READ_TRIES):
            try:
                return read()
            except RecordNotReady:
                if attempt + 1 < READ_TRIES and not self._stop.wait(READ_PAUSE):
                    continue
                return None
        return None

    def _session_folder(self, path: Path) -> Path | None:
        try:
            relative = path.relative_to(self.sessions_dir)
        except ValueError:
            return None
        return self.sessions_dir / relative.parts[0] if relative.parts else None

    def _call(self, callback: Callable[..., None], *arguments: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(callback, *arguments)
        except RuntimeError:  # the loop closed meanwhile: the sidecar is stopping
            self._stop.set()
