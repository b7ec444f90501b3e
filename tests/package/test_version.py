"""One version everywhere: ``cline_bridge.__version__`` is the source. pyproject.toml reads it
(the wheel's metadata, ``--version``, ``clineBridge.status`` and the discovery file are checked on
the installed wheel in ``test_wheel.py``); the extension's package.json, and so its VSIX, must say
the same, as must the sidecar a VSIX carries."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from cline_bridge import __version__

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "vscode-client"
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def test_the_extension_has_the_package_version() -> None:
    package = json.loads((CLIENT / "package.json").read_text())
    assert package["version"] == __version__, (
        "vscode-client/package.json's version must be cline_bridge.__version__"
    )


def test_every_built_vsix_has_the_package_version() -> None:
    vsixes = sorted(CLIENT.glob("*.vsix"))
    if not vsixes:
        pytest.skip("no VSIX built (make vsix)")
    for vsix in vsixes:
        with zipfile.ZipFile(vsix) as archive:
            package = json.loads(archive.read("extension/package.json"))
            manifest = archive.read("extension.vsixmanifest").decode()
            # Wherever the VSIX bundles the sidecar (one copy per ABI or one in all), each copy.
            sidecars = [
                archive.read(name).decode()
                for name in archive.namelist()
                if name.endswith("/cline_bridge/__init__.py")
            ]
        assert package["version"] == __version__, vsix.name
        assert f'Version="{__version__}"' in manifest, vsix.name
        assert sidecars, f"{vsix.name} carries no sidecar"
        for sidecar in sidecars:
            match = VERSION_LINE.search(sidecar)
            assert match is not None, vsix.name
            assert match[1] == __version__, vsix.name
