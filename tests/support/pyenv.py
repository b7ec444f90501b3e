"""The CPython interpreters pyenv keeps on the test machines, for tests that run under each.

The suite promises the sidecar works under every CPython the VSIX carries libraries for, so a
missing interpreter is a failure of the machine's set-up, never a reason to skip: ``pyenv_python``
raises ``PythonMissing`` with the command that installs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


class PythonMissing(LookupError):
    """No pyenv CPython of the wanted version; the message says where it looked and what to run."""


def pyenv_root() -> Path:
    """``$PYENV_ROOT``, else ``~/.pyenv`` (pyenv's own default)."""
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def pyenv_python(version: str) -> Path:
    """The interpreter of the newest pyenv CPython ``version`` (``"3.12"``): the real binary
    ``<root>/versions/3.12.<n>/bin/python3.12``, not pyenv's shim, so that the process it starts
    is the interpreter itself."""
    versions = pyenv_root() / "versions"
    release = re.compile(rf"{re.escape(version)}\.(\d+)")  # not 3.12-dev, 3.12.1t, pypy3.12
    found = {
        int(match.group(1)): binary
        for folder in (versions.iterdir() if versions.is_dir() else ())
        if (match := release.fullmatch(folder.name))
        and (binary := folder / "bin" / f"python{version}").is_file()
    }
    if not found:
        raise PythonMissing(
            f"CPython {version} is not installed under pyenv (no {versions}/{version}.*/bin/"
            f"python{version}); install it with `pyenv install {version}`"
        )
    return found[max(found)]
