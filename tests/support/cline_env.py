"""The real Cline CLI, offline: where its binary is, an isolated home for it, and a leak check.

Everything here follows /work/shared/reference/cline-acp.md (§2 configuration, §3 the hub
daemon) for cline 3.0.65. No pytest and no cline_bridge imports, so benchmarks and any test
folder can use it; tests/support/cline_fixtures.py wraps it in fixtures.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import processes
from tests.support.e2e_tools import tool_versions, tools_cache
from tests.support.environment import without_cline_settings

API_KEY = "sk-test"
PROVIDER = "openai-compatible"
MODEL = "fake-model"
"""The model id stored in providers.json. ACP sessions still start on ``gpt-4o`` (the only id in
the provider's catalogue) until ``session/set_config_option`` sets the model."""
HUB_DAEMON_FLAG = "--cline-hub-daemon"
LEAK_GRACE = 3.0
"""Seconds a leftover process gets to finish exiting before the leak check kills it."""


class ToolsMissing(RuntimeError):
    """The pinned Cline CLI is not installed."""


def cline_binary_path() -> Path:
    """Where scripts/install-e2e-tools.sh puts the platform binary of the pinned Cline CLI."""
    version = tool_versions()["CLINE_CLI_VERSION"]
    system = {"linux": "linux", "darwin": "darwin", "win32": "windows"}.get(sys.platform, "linux")
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), "x64"
    )
    modules = tools_cache() / f"cline-{version}" / "node_modules"
    return modules / "@cline" / f"cli-{system}-{machine}" / "bin" / "cline"


def require_cline_binary() -> Path:
    """The binary, or ToolsMissing saying how to install it."""
    binary = cline_binary_path()
    complete = binary.parents[4] / ".complete"  # written last by the install script
    if not (binary.is_file() and os.access(binary, os.X_OK) and complete.exists()):
        raise ToolsMissing(f"the Cline CLI is not installed at {binary}: run `make e2e-tools`")
    return binary


# -- an isolated home ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClineHome:
    """One isolated Cline installation state: HOME, data dir and a workspace, all under ``root``."""

    binary: Path
    root: Path
    home: Path
    data: Path
    workspace: Path
    base_url: str

    @property
    def command(self) -> list[str]:
        return [str(self.binary), "--acp", "--data-dir", str(self.data)]

    @property
    def env(self) -> dict[str, str]:
        """The variables the agent needs on top of an ordinary environment (reference §2.2)."""
        return {
            "HOME": str(self.home),
            "CLINE_DATA_DIR": str(self.data),
            # ACP refuses session/new without a login or this; its value is the bearer token.
            "CLINE_API_KEY": API_KEY,
            "CLINE_PROVIDER": PROVIDER,
            # Without it a run may leave a detached hub daemon behind (reference §3).
            "CLINE_SESSION_BACKEND_MODE": "local",
            "CLINE_NO_AUTO_UPDATE": "1",
        }

    def acp_options(self) -> dict[str, Any]:
        """The sidecar's ``initializationOptions["acp"]`` for this home."""
        return {"command": self.command, "env": self.env}

    def spawn_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A full environment for spawning the binary directly: ``base`` (default: ours) without
        any inherited ``CLINE_*`` setting, plus ``env``."""
        return without_cline_settings(base) | self.env

    @property
    def stderr_log(self) -> Path:
        """Where a test should send the agent's stderr."""
        return self.root / "cline-stderr.log"


def make_cline_home(root: Path, base_url: str, binary: Path, *, model: str = MODEL) -> ClineHome:
    """Create ``root/{home,data,workspace}`` and the settings that point Cline at ``base_url``.

    ``base_url`` is what ``/chat/completions`` is appended to: a FakeClineAPI's ``url``.
    """
    home = ClineHome(
        binary=binary,
        root=root,
        home=root / "home",
        data=root / "data",
        workspace=root / "workspace",
        base_url=base_url,
    )
    settings = home.data / "settings"
    for folder in (home.home, settings, home.workspace):
        folder.mkdir(parents=True, exist_ok=True)
    providers = {
        "version": 1,
        "lastUsedProvider": PROVIDER,
        "providers": {
            PROVIDER: {
                "settings": {
                    "provider": PROVIDER,
                    "apiKey": API_KEY,
                    "model": model,
                    "baseUrl": base_url,
                },
                # Mandatory: without it the entry is silently ignored and Cline falls back to
                # https://api.openai.com/v1.
                "updatedAt": "2026-01-01T00:00:00.000Z",
            }
        },
    }
    _write_private(settings / "providers.json", providers)
    # Opting out of telemetry also stops the OTLP host lookups.
    _write_private(
        settings / "global-settings.json", {"telemetryOptOut": True, "autoUpdateEnabled": False}
    )
    return home


def _write_private(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")
    path.chmod(0o600)


# -- leaked processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClineProcess:
    pid: int
    cmdline: tuple[str, ...]

    def __str__(self) -> str:
        return f"pid {self.pid}: {' '.join(self.cmdline)}"


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):  # bounded: a pid can be reused under us while we walk
        found = processes.stat(pid)
        if found is None:
            return False
        pid = found.ppid
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def cline_processes(
    binary: Path | None, roots: Sequence[Path] = (), *, ancestor: int | None = None
) -> list[ClineProcess]:
    """Live Cline processes (the binary, or any hub daemon) that belong to us: descendants of
    ``ancestor`` (default: this process), or processes whose command line or working directory
    lies under one of ``roots``. Other people's Cline processes on the machine are left out."""
    ancestor = os.getpid() if ancestor is None else ancestor
    target = binary.resolve() if binary is not None and binary.exists() else None
    prefixes = [str(root.resolve()) for root in roots]
    found = []
    for pid in processes.all_pids():
        if pid == os.getpid():
            continue
        cmdline = processes.argv(pid)
        state = processes.stat(pid)
        if not cmdline or state is None or not state.running:  # gone, kernel thread or zombie
            continue
        exe = processes.exe(pid) or ""
        is_cline = HUB_DAEMON_FLAG in cmdline or (
            target is not None and (exe == str(target) or _same_file(cmdline[0], target))
        )
        if not is_cline:
            continue
        cwd = processes.cwd(pid) or ""
        mentions = any(
            text == prefix or text.startswith(prefix + os.sep) or (prefix + os.sep) in text
            for prefix in prefixes
            for text in (*cmdline, cwd)
        )
        if mentions or _descends_from(pid, ancestor):
            found.append(ClineProcess(pid, cmdline))
    return found


def _same_file(path: str, target: Path) -> bool:
    try:
        return Path(path).resolve() == target
    except (OSError, RuntimeError):
        return False


@contextlib.contextmanager
def cline_leak_guard(
    binary: Path | None, roots: Sequence[Path] = (), *, grace: float = LEAK_GRACE
) -> Iterator[None]:
    """Check on exit that no Cline process of ours (see ``cline_processes``) is left running.

    Leftovers get ``grace`` seconds to exit, then are killed by pid, and AssertionError names
    them (unless the body already raised, which is then left to speak for itself).
    """
    failed = True
    try:
        yield
        failed = False
    finally:
        deadline = time.monotonic() + grace
        while (leaked := cline_processes(binary, roots)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in leaked:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        if leaked and not failed:
            names = "; ".join(str(process) for process in leaked)
            raise AssertionError(f"Cline processes left running (killed): {names}")
