"""Discovery files: how a script finds the running sidecars and picks one.

Each sidecar with a control endpoint writes ``<runtime>/<pid>.json`` (mode 0600) in a private
runtime folder (mode 0700), and on POSIX listens on ``<runtime>/<pid>.sock``. The runtime folder
is ``$XDG_RUNTIME_DIR/cline-bridge``, else ``<temp dir>/cline-bridge-<uid>`` (on Windows
``<temp dir>/cline-bridge``). A file whose process is gone is stale: readers skip and delete it.

Which bridge a script reaches (``select_bridge``): an explicit file (``--bridge FILE``), else
``$CLINE_BRIDGE``, else the live bridge whose workspace folder holds the current directory (the
deepest folder wins), else the only live bridge, else an error that lists them.

Nothing here imports pygls or does network I/O, so the CLI stays quick.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import NamedTuple

from cline_bridge.wire.errors import BridgeNotFoundError, RuntimeDirError
from cline_bridge.wire.names import ENV_BRIDGE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

NO_BRIDGE_MESSAGE = (
    "No cline-bridge is running: open the folder in VS Code with the Cline Bridge extension, "
    "or run `cline-bridge serve` from an editor"
)

_RECORD_NAME = re.compile(r"(?P<pid>[0-9]+)\.json")
_SOCKET_NAME = re.compile(r"(?P<pid>[0-9]+)\.sock")
_MAX_RECORD_BYTES = 64 * 1024


class UnixEndpoint(NamedTuple):
    """A control endpoint on a Unix socket."""

    path: str


class TcpEndpoint(NamedTuple):
    """A control endpoint on TCP (Windows): always a loopback address."""

    host: str
    port: int


def parse_endpoint(endpoint: str) -> UnixEndpoint | TcpEndpoint:
    """Parse ``unix:<path>`` or ``tcp:127.0.0.1:<port>``; raise ``ValueError`` for anything else."""
    kind, _, rest = endpoint.partition(":")
    if kind == "unix" and rest:
        return UnixEndpoint(rest)
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if host in ("127.0.0.1", "localhost", "::1", "[::1]") and port.isdigit():
            return TcpEndpoint(host.strip("[]"), int(port))
        raise ValueError(f"a tcp endpoint must be on the loopback address: {endpoint!r}")
    raise ValueError(f"endpoint must be unix:<path> or tcp:127.0.0.1:<port>, not {endpoint!r}")


class DiscoveryRecord(NamedTuple):
    """The content of one discovery file. Field names are snake_case here, camelCase on disk.

    Its ``repr`` leaves the token out.
    """

    pid: int
    endpoint: str
    """``unix:<path>`` or ``tcp:127.0.0.1:<port>``."""
    token: str
    """The secret the first request (``initialize``) must present."""
    workspace_folders: tuple[str, ...]
    """Absolute filesystem paths of the workspace folders of the sidecar's editor."""
    host: str
    """``editor``, ``acp`` or ``none``: what carries out task commands."""
    version: str
    started_at: str
    """ISO 8601 time the sidecar started its endpoint."""

    @classmethod
    def from_json(cls, data: Any) -> DiscoveryRecord:
        """Build a record from a parsed discovery file; ``ValueError`` says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a discovery file must hold a JSON object")
        pid = data.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ValueError("pid must be a positive integer")
        strings = {}
        for key in ("endpoint", "token", "host", "version", "startedAt"):
            value = data.get(key)
            if not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            strings[key] = value
        if not strings["token"]:
            raise ValueError("token must not be empty")
        parse_endpoint(strings["endpoint"])
        folders = data.get("workspaceFolders", [])
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise ValueError("workspaceFolders must be a list of paths")
        return cls(
            pid=pid,
            endpoint=strings["endpoint"],
            token=strings["token"],
            workspace_folders=tuple(folders),
            host=strings["host"],
            version=strings["version"],
            started_at=strings["startedAt"],
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> DiscoveryRecord:
        """Read a discovery file. ``OSError`` if it cannot be read, ``ValueError`` if it is not
        a discovery file (the message says why)."""
        with open(path, "rb") as file:
            content = file.read(_MAX_RECORD_BYTES + 1)
        if len(content) > _MAX_RECORD_BYTES:
            raise ValueError("too large for a discovery file")
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("not valid JSON") from None
        return cls.from_json(data)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the discovery file (camelCase keys, as on the wire)."""
        return {
            "pid": self.pid,
            "endpoint": self.endpoint,
            "token": self.token,
            "workspaceFolders": list(self.workspace_folders),
            "host": self.host,
            "version": self.version,
            "startedAt": self.started_at,
        }

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={'***' if name == 'token' else repr(value)}"
            for name, value in zip(self._fields, self, strict=True)
        )
        return f"DiscoveryRecord({fields})"

    def describe(self) -> str:
        """One line naming the bridge for humans (never the token): ``pid 12 (editor: /a, /b)``."""
        folders = ", ".join(self.workspace_folders) or "no folder"
        return f"pid {self.pid} ({self.host}: {folders})"


def runtime_dir(create: bool) -> Path:
    """The folder of discovery files and sockets, checked to be the user's own and private.

    With ``create`` the folder is made (mode 0700) when missing; without, a missing folder is
    returned as is (there is simply no bridge). An existing folder that is not a real directory,
    belongs to another user, or is writable by group or others raises ``RuntimeDirError``.
    """
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        folder = Path(xdg) / "cline-bridge"
    else:
        import tempfile  # only here: it costs a one-shot command more than all the rest

        name = "cline-bridge" if sys.platform == "win32" else f"cline-bridge-{os.getuid()}"
        folder = Path(tempfile.gettempdir()) / name
    if create:
        try:
            folder.mkdir(mode=0o700, parents=False)
        except FileExistsError:
            pass
        except OSError as error:
            raise RuntimeDirError(f"cannot create {folder}: {error.strerror or error}") from None
        else:
            # mkdir's mode is filtered by the umask, which may have taken owner bits away.
            os.chmod(folder, 0o700)
    _check_private(folder)
    return folder


def _check_private(folder: Path) -> None:
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return
    except OSError as error:
        raise RuntimeDirError(f"cannot inspect {folder}: {error.strerror or error}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeDirError(
            f"refusing to use {folder}: it is not a directory (a symbolic link or a file); "
            "remove it and try again"
        )
    if sys.platform == "win32":
        return  # the temp folder is per user; POSIX ownership and modes do not apply
    if info.st_uid != os.getuid():
        raise RuntimeDirError(
            f"refusing to use {folder}: it belongs to another user (uid {info.st_uid}); "
            "remove it, or set XDG_RUNTIME_DIR to a private folder"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RuntimeDirError(
            f"refusing to use {folder}: other users can write to it; "
            f"run `chmod 700 {folder}` or remove it"
        )


def discovery_path(pid: int, folder: Path | None = None) -> Path:
    """Where the discovery file of ``pid`` lives (in ``folder``, default the runtime folder)."""
    return (folder if folder is not None else runtime_dir(create=False)) / f"{pid}.json"


def socket_path(pid: int, folder: Path | None = None) -> Path:
    """Where the Unix socket of ``pid`` lives (in ``folder``, default the runtime folder)."""
    return (folder if folder is not None else runtime_dir(create=False)) / f"{pid}.sock"


def write_discovery(record: DiscoveryRecord) -> Path:
    """Write ``record`` as ``<runtime>/<pid>.json`` atomically and return its path.

    The content goes to a temporary file created with mode 0600 in the same folder, is flushed to
    disk, then renamed over the target: a reader sees the old file or the whole new one, and the
    token is never readable by anyone else, not even briefly.
    """
    import tempfile  # the sidecar's only: scripts read discovery files, never write them

    folder = runtime_dir(create=True)
    target = folder / f"{record.pid}.json"
    content = json.dumps(record.to_json(), indent=2).encode() + b"\n"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{record.pid}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)
    return target


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def remove_discovery(pid: int) -> None:
    """Delete the discovery file and socket of ``pid``, if they exist."""
    folder = runtime_dir(create=False)
    _remove_quietly(discovery_path(pid, folder), socket_path(pid, folder))


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


STARTED_SLACK = 2
"""Seconds a process's start time may seem to follow the ``startedAt`` its sidecar wrote (the
system's boot time, from which Linux counts, is rounded to a second)."""


def record_live(record: DiscoveryRecord) -> bool:
    """Whether the sidecar that wrote ``record`` still runs: its pid is alive, and the process
    with that pid started before the record was written (else the pid was reused by another
    process since). Where the start time cannot be read, the pid alone decides."""
    if not pid_alive(record.pid):
        return False
    started = process_start_time(record.pid)
    if started is None:
        return True
    # Compared as UTC ISO strings, to the second: no datetime import on the one-shot path.
    earliest = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started - STARTED_SLACK))
    return earliest <= record.started_at[:19]


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None where it cannot be read
    (not Linux or Windows, no such process, no permission)."""
    try:
        if sys.platform == "win32":
            return _windows_start_time(pid)
        return _linux_start_time(pid) if sys.platform.startswith("linux") else None
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _linux_start_time(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as file:
        stat = file.read()
    # Field 22 (starttime, clock ticks after boot); the name (field 2) may hold spaces and ")".
    after_name = stat[stat.rindex(b")") + 2 :].split()
    ticks = int(after_name[19])
    with open("/proc/stat", "rb") as file:
        boot = next(line for line in file if line.startswith(b"btime "))
    return int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a process of another user counts as alive)."""
    if pid <= 0:
        return False  # 0 and negatives name process groups, never one sidecar
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell: keep the file rather than delete a live bridge's
    return True


if sys.platform == "win32":
    import ctypes

    def _windows_start_time(pid: int) -> float | None:
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return None
        try:
            created, ended, kernel, user = (ctypes.c_ulonglong() for _ in range(4))
            if not kernel32.GetProcessTimes(
                handle, *(ctypes.byref(value) for value in (created, ended, kernel, user))
            ):
                return None
            # FILETIME: 100 ns steps since 1601-01-01.
            return created.value / 10_000_000 - 11_644_473_600
        finally:
            kernel32.CloseHandle(handle)

    def _windows_pid_alive(pid: int) -> bool:
        # os.kill(pid, 0) would terminate the process on Windows.
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists
        try:
            exit_code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(exit_code)):
                return True
            return exit_code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)


def live_bridges() -> list[tuple[Path, DiscoveryRecord]]:
    """Every live bridge's discovery file and record, oldest process id first.

    Files of dead processes are deleted with their sockets, as are sockets left without a file.
    Unreadable or malformed files of live processes are skipped and left alone.
    """
    folder = runtime_dir(create=False)
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        raise RuntimeDirError(f"cannot list {folder}: {error.strerror or error}") from None
    found: list[tuple[Path, DiscoveryRecord]] = []
    for name in names:
        socket_match = _SOCKET_NAME.fullmatch(name)
        if socket_match is not None:
            pid = int(socket_match["pid"])
            if f"{pid}.json" not in names and not pid_alive(pid):
                _remove_quietly(folder / name)
            continue
        match = _RECORD_NAME.fullmatch(name)
        if match is None:
            continue
        pid = int(match["pid"])
        path = folder / name
        if not pid_alive(pid):
            _remove_quietly(path, socket_path(pid, folder))
            continue
        try:
            record = DiscoveryRecord.from_file(path)
        except (OSError, ValueError):
            continue
        if record.pid != pid:
            continue
        if not record_live(record):  # a leftover whose pid another process has now
            _remove_quietly(path, socket_path(pid, folder))
            continue
        found.append((path, record))
    found.sort(key=lambda item: item[1].pid)
    return found


def select_bridge(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> tuple[Path, DiscoveryRecord]:
    """Choose the bridge a script reaches; return its discovery file and record.

    1. ``explicit`` (``--bridge FILE``): that file, which must hold a live bridge.
    2. ``environ["CLINE_BRIDGE"]``: that file, if it holds a live bridge. A file that is gone
       or whose process ended (the editor restarted its sidecar since the terminal opened) is
       passed over for the rules below; a malformed one is an error.
    3. The live bridges with a workspace folder holding ``cwd`` (paths compared resolved): the
       one with the deepest such folder; a tie between several is an error.
    4. The only live bridge.
    Otherwise ``BridgeNotFoundError``, whose message lists the live bridges or, with none, says
    how to start one. ``environ`` defaults to ``os.environ``, ``cwd`` to the current directory.
    """
    environ = os.environ if environ is None else environ
    if explicit is not None and os.fspath(explicit):
        return _read_chosen(Path(explicit), "--bridge", strict=True)
    from_env = environ.get(ENV_BRIDGE)
    if from_env:
        with contextlib.suppress(_Gone):
            return _read_chosen(Path(from_env), ENV_BRIDGE, strict=False)
    bridges = live_bridges()
    if not bridges:
        raise BridgeNotFoundError(NO_BRIDGE_MESSAGE)
    here = _resolved(Path.cwd() if cwd is None else Path(cwd))
    holding = _deepest_holding(bridges, here)
    if len(holding) == 1:
        return holding[0]
    if len(holding) > 1:
        raise BridgeNotFoundError(
            f"{len(holding)} cline-bridges serve {here}: {_listing(holding)}; "
            f"choose one with --bridge FILE or {ENV_BRIDGE}=FILE"
        )
    if len(bridges) == 1:
        return bridges[0]
    raise BridgeNotFoundError(
        f"{len(bridges)} cline-bridges are running and none serves {here}: {_listing(bridges)}; "
        f"choose one with --bridge FILE or {ENV_BRIDGE}=FILE"
    )


class _Gone(Exception):
    """The named discovery file is missing or its process ended."""


def _read_chosen(path: Path, source: str, *, strict: bool) -> tuple[Path, DiscoveryRecord]:
    try:
        record = DiscoveryRecord.from_file(path)
    except FileNotFoundError:
        if not strict:
            raise _Gone from None
        raise BridgeNotFoundError(
            f"{path} (from {source}) does not exist: that bridge has stopped"
        ) from None
    except OSError as error:
        raise BridgeNotFoundError(
            f"{path} (from {source}) cannot be read: {error.strerror or error}"
        ) from None
    except ValueError as error:
        raise BridgeNotFoundError(
            f"{path} (from {source}) is not a cline-bridge discovery file: {error}"
        ) from None
    if not record_live(record):
        if not strict:
            raise _Gone
        raise BridgeNotFoundError(
            f"{path} (from {source}) is stale: its bridge (pid {record.pid}) has stopped"
        )
    return path, record


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return Path(os.path.abspath(path))


def _deepest_holding(
    bridges: Sequence[tuple[Path, DiscoveryRecord]], here: Path
) -> list[tuple[Path, DiscoveryRecord]]:
    """The bridges whose deepest folder holding ``here`` is the deepest of all."""
    best_depth = -1
    best: list[tuple[Path, DiscoveryRecord]] = []
    for item in bridges:
        depth = max(_holding_depths(item[1].workspace_folders, here), default=-1)
        if depth < 0:
            continue
        if depth > best_depth:
            best_depth, best = depth, [item]
        elif depth == best_depth:
            best.append(item)
    return best


def _holding_depths(folders: Iterable[str], here: Path) -> Iterable[int]:
    for folder in folders:
        if not folder:
            continue
        resolved = _resolved(Path(folder))
        if resolved == here or resolved in here.parents:
            yield len(resolved.parts)


def _listing(bridges: Sequence[tuple[Path, DiscoveryRecord]]) -> str:
    return ", ".join(f"{record.describe()} in {path}" for path, record in bridges)
