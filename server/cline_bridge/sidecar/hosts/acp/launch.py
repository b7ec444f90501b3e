"""How the sidecar starts the Cline CLI: program, environment, folder; and what it keeps secret."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cline_bridge.redaction import SECRET_NAME_WORDS
from cline_bridge.sidecar.cline_records import cline_data_dir

# Without it the CLI may spawn a detached "hub" daemon that outlives the sidecar, holds a port and
# inherits the environment, keys included (cline-acp.md, "The hub-daemon hazard"). A user who
# really wants the hub can still set the variable.
CHILD_ENV_DEFAULTS = {
    "CLINE_SESSION_BACKEND_MODE": "local",
    # An agent that updates itself mid-task would drop the session.
    "CLINE_NO_AUTO_UPDATE": "1",
}
# Environment variables whose values are never logged, even inside the agent's own output.
_SECRET_NAME = re.compile(SECRET_NAME_WORDS, re.IGNORECASE)
_SHORTEST_SECRET = 4
_DATA_DIR_FLAG = "--data-dir"


@dataclass(frozen=True)
class AgentLaunch:
    """What ``AgentConnection.start`` runs: ``command`` in ``cwd`` with ``env``."""

    command: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)  # it holds the secrets too
    cwd: str
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def describe(self) -> str:
        """The command line, for logs and errors (the environment is never shown)."""
        return " ".join(self.command)

    def data_dir(self) -> Path:
        """Where the agent keeps its sessions: the command's ``--data-dir`` (the last one, as
        Cline's option parser takes it), else the folder its environment names (``cline_data_dir``);
        a relative path is the agent's, from its ``cwd``."""
        found: str | None = None
        arguments = iter(self.command[1:])
        for argument in arguments:
            if argument == _DATA_DIR_FLAG:
                found = next(arguments, found)
            elif argument.startswith(_DATA_DIR_FLAG + "="):
                found = argument.partition("=")[2]
        path = Path(found) if found else cline_data_dir(self.env)
        return path if path.is_absolute() else Path(self.cwd) / path

    def redact(self, text: str) -> str:
        """``text`` with every secret value of the environment replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def resolve_program(program: str, env: Mapping[str, str]) -> str | None:
    """The executable ``program`` names, looked up on the child's PATH; None if there is none."""
    if os.sep in program or (os.altsep and os.altsep in program):
        path = os.path.expanduser(program)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(program, path=env.get("PATH"))


def plan_launch(
    command: Sequence[str],
    extra_env: Mapping[str, str],
    environ: Mapping[str, str],
    cwd: str,
) -> AgentLaunch | None:
    """The launch for ``acp.command`` and ``acp.env``; None when the program is not found.

    The child gets the sidecar's own environment: the user's Cline login (or ``CLINE_API_KEY``)
    is what runs the agent. ``acp.env`` is laid over it.
    """
    env = {**CHILD_ENV_DEFAULTS, **environ, **extra_env}
    program = resolve_program(command[0], env)
    if program is None:
        return None
    secrets = {
        value
        for name, value in env.items()
        if _SECRET_NAME.search(name) and len(value) >= _SHORTEST_SECRET
    }
    return AgentLaunch(
        command=(program, *command[1:]),
        env=env,
        cwd=cwd,
        # Longest first, so that a secret containing another is replaced whole.
        secrets=tuple(sorted(secrets, key=len, reverse=True)),
    )
