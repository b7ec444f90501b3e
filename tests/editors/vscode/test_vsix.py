"""The packaged extension: each VSIX carries the sidecar exactly as the source tree has it, the
libraries of every CPython 3.10-3.13 built for its target, and nothing of the machine that built it.

``make vsix`` builds this machine's VSIX (``bridge_vsix``); ``make vsix-all`` builds one per target
the Marketplace serves, which the tests below unpack. The layout they check is the launcher's
contract: ``bundled/libs/<abi>`` then ``bundled/libs/common`` on PYTHONPATH.
"""

from __future__ import annotations

import json
import re
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cline_bridge import __version__
from tests.editors.vscode.workbench import REPO

BUNDLED = "extension/bundled/"
LIBS = BUNDLED + "libs/"
ABIS = ("cp310", "cp311", "cp312", "cp313")
SOURCE = REPO / "server"
VSIX_DIR = REPO / "vscode-client" / "dist-vsix"


@dataclass(frozen=True)
class Target:
    """What a compiled module built for one VS Code target looks like."""

    abi_suffix: str
    """The extension-module suffix of CPython 3.{minor} there, ``{minor}`` left to fill."""
    stable_suffixes: tuple[str, ...]
    """Suffixes every CPython 3 there loads (the stable ABI)."""
    machine: str
    """The architecture the binary's header names."""
    markers: dict[str, str]
    """How PEP 508 markers see the platform."""


def _posix(system: str, platform_system: str, machine: str) -> dict[str, str]:
    return {
        "os_name": "posix",
        "sys_platform": system,
        "platform_system": platform_system,
        "platform_machine": machine,
    }


_POSIX_STABLE = (".abi3.so", ".so")
TARGETS = {
    "linux-x64": Target(
        abi_suffix="cpython-3{minor}-x86_64-linux-gnu.so",
        stable_suffixes=_POSIX_STABLE,
        machine="x86_64",
        markers=_posix("linux", "Linux", "x86_64"),
    ),
    "linux-arm64": Target(
        abi_suffix="cpython-3{minor}-aarch64-linux-gnu.so",
        stable_suffixes=_POSIX_STABLE,
        machine="aarch64",
        markers=_posix("linux", "Linux", "aarch64"),
    ),
    "darwin-x64": Target(
        abi_suffix="cpython-3{minor}-darwin.so",
        stable_suffixes=_POSIX_STABLE,
        machine="x86_64",
        markers=_posix("darwin", "Darwin", "x86_64"),
    ),
    "darwin-arm64": Target(
        abi_suffix="cpython-3{minor}-darwin.so",
        stable_suffixes=_POSIX_STABLE,
        machine="arm64",
        markers=_posix("darwin", "Darwin", "arm64"),
    ),
    "win32-x64": Target(
        abi_suffix="cp3{minor}-win_amd64.pyd",
        stable_suffixes=(".pyd",),
        machine="x86_64",
        markers={
            "os_name": "nt",
            "sys_platform": "win32",
            "platform_system": "Windows",
            "platform_machine": "AMD64",
        },
    ),
}

# Header values naming an architecture: ELF e_machine, Mach-O cputype, PE machine.
_ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
_MACHO_CPUS = {0x01000007: "x86_64", 0x0100000C: "arm64"}
_PE_MACHINES = {0x8664: "x86_64", 0xAA64: "arm64"}


def architectures(binary: bytes) -> set[str]:
    """The architectures a compiled module is built for, read from its header."""
    if binary.startswith(b"\x7fELF"):
        (machine,) = struct.unpack_from("<H", binary, 18)
        return {_ELF_MACHINES.get(machine, f"elf-{machine}")}
    if binary.startswith(b"\xcf\xfa\xed\xfe"):
        (cpu,) = struct.unpack_from("<I", binary, 4)
        return {_MACHO_CPUS.get(cpu, f"mach-o-{cpu:#x}")}
    if binary.startswith(b"\xca\xfe\xba\xbe"):  # a universal binary: one slice per architecture
        (count,) = struct.unpack_from(">I", binary, 4)
        cpus = [struct.unpack_from(">I", binary, 8 + 20 * i)[0] for i in range(count)]
        return {_MACHO_CPUS.get(cpu, f"mach-o-{cpu:#x}") for cpu in cpus}
    if binary.startswith(b"MZ"):
        (pe_offset,) = struct.unpack_from("<I", binary, 0x3C)
        assert binary[pe_offset : pe_offset + 4] == b"PE\0\0"
        (machine,) = struct.unpack_from("<H", binary, pe_offset + 4)
        return {_PE_MACHINES.get(machine, f"pe-{machine:#x}")}
    return {"unknown"}


class UnpackedVsix:
    """A VSIX's members, read once."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as vsix:
            self.files = {
                name: vsix.read(name) for name in vsix.namelist() if not name.endswith("/")
            }

    def under(self, folder: str) -> dict[str, bytes]:
        """The files below ``folder``, by their path from it."""
        return {
            name.removeprefix(folder): content
            for name, content in self.files.items()
            if name.startswith(folder)
        }

    def resolve(self, abi: str, module_path: str) -> tuple[str, dict[str, bytes]] | None:
        """Where the launcher's PYTHONPATH for ``abi`` finds the package ``module_path``
        (``libs/<abi>`` first, then ``libs/common``), and that folder's files."""
        for folder in (abi, "common"):
            files = self.under(f"{LIBS}{folder}/{module_path}/")
            if files:
                return folder, files
        return None


def source_tree() -> dict[str, bytes]:
    """cline_bridge as the source tree has it, by path from ``server/``."""
    return {
        path.relative_to(SOURCE).as_posix(): path.read_bytes()
        for path in (SOURCE / "cline_bridge").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="session")
def target_vsixes() -> dict[str, UnpackedVsix]:
    """The five VSIXes of ``make vsix-all``, unpacked; the tests fail if one is missing."""
    paths = {target: VSIX_DIR / f"cline-bridge-{target}.vsix" for target in TARGETS}
    missing = [path.relative_to(REPO).as_posix() for path in paths.values() if not path.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make vsix-all`")
    return {target: UnpackedVsix(path) for target, path in paths.items()}


def test_the_vsix_carries_the_sidecar_and_nothing_left_from_an_earlier_layout(
    bridge_vsix: Path,
) -> None:
    vsix = UnpackedVsix(bridge_vsix)
    bundled = {
        f"cline_bridge/{name}": content
        for name, content in vsix.under(LIBS + "common/cline_bridge/").items()
    }

    assert "cline_bridge/sidecar/server.py" in bundled, "the sidecar is in the VSIX"
    assert bundled == source_tree(), (
        "the VSIX's cline_bridge is the source tree's, module for module"
    )
    elsewhere = [name for name in vsix.files if "/cline_bridge/" in name and "/common/" not in name]
    assert elsewhere == [], "cline_bridge is in libs/common only"


@pytest.mark.parametrize("target", TARGETS)
def test_each_vsix_says_which_target_and_pythons_it_is_for(
    target_vsixes: dict[str, UnpackedVsix], target: str
) -> None:
    vsix = target_vsixes[target]

    manifest = json.loads(vsix.files[BUNDLED + "manifest.json"])
    assert manifest == {
        "target": target,
        "abis": list(ABIS),
        "version": __version__,
        "python": ">=3.10,<3.14",
    }
    identity = re.search(rb"<Identity [^>]*>", vsix.files["extension.vsixmanifest"])
    assert identity is not None
    assert f'TargetPlatform="{target}"'.encode() in identity.group(), "vsce package --target"
    folders = {PurePosixPath(name).parts[0] for name in vsix.under(LIBS)}
    assert folders == {"common", *ABIS}


@pytest.mark.parametrize("target", TARGETS)
def test_every_python_has_its_compiled_modules_built_for_the_target(
    target_vsixes: dict[str, UnpackedVsix], target: str
) -> None:
    vsix, expected = target_vsixes[target], TARGETS[target]
    for abi in ABIS:
        abi_suffix = expected.abi_suffix.format(minor=abi.removeprefix("cp3"))

        # pydantic-core's compiled core exists per ABI: it must sit in this ABI's own folder.
        core = vsix.under(f"{LIBS}{abi}/pydantic_core/")
        compiled = {name: data for name, data in core.items() if name.startswith("_pydantic_core.")}
        assert list(compiled) == [f"_pydantic_core.{abi_suffix}"], f"{abi}: {sorted(core)}"
        assert architectures(*compiled.values()) == {expected.machine}, abi

        # watchfiles may use the stable ABI, shared by all: then libs/common has it.
        found = vsix.resolve(abi, "watchfiles")
        assert found is not None, f"{abi}: no watchfiles"
        folder, files = found
        notify = {name: data for name, data in files.items() if name.startswith("_rust_notify.")}
        loadable = {
            name: data
            for name, data in notify.items()
            if name.endswith((f".{abi_suffix}", *expected.stable_suffixes))
        }
        assert len(loadable) == 1, f"{abi}: watchfiles in libs/{folder}: {sorted(notify)}"
        assert architectures(*loadable.values()) == {expected.machine}, abi


@pytest.mark.parametrize("target", TARGETS)
def test_every_python_finds_every_dependency_its_version_needs(
    target_vsixes: dict[str, UnpackedVsix], target: str
) -> None:
    """Version-dependent requirements included: exceptiongroup for 3.10 only."""
    vsix = target_vsixes[target]
    common = vsix.under(LIBS + "common/")
    for abi in ABIS:
        own = vsix.under(f"{LIBS}{abi}/")
        top_levels = {PurePosixPath(name).parts[0] for name in own}
        shared = top_levels & {PurePosixPath(name).parts[0] for name in common}
        assert shared == set(), f"{abi} and common both hold {shared}"

        visible = {**common, **own}
        installed = {
            canonicalize_name(name.split("/")[0].removesuffix(".dist-info").rsplit("-", 1)[0])
            for name in visible
            if name.split("/")[0].endswith(".dist-info")
        }
        version = f"3.{abi.removeprefix('cp3')}"
        environment = {
            **TARGETS[target].markers,
            "python_version": version,
            "python_full_version": f"{version}.0",
            "extra": "",
        }
        for name, content in visible.items():
            if not name.endswith(".dist-info/METADATA"):
                continue
            for line in content.decode().splitlines():
                if not line.startswith("Requires-Dist:"):
                    continue
                requirement = Requirement(line.removeprefix("Requires-Dist:"))
                if requirement.marker is None or requirement.marker.evaluate(environment):
                    assert canonicalize_name(requirement.name) in installed, f"{abi}: {line}"
    cp310 = vsix.under(LIBS + "cp310/")
    assert any(name.startswith("exceptiongroup/") for name in cp310)


@pytest.mark.parametrize("target", TARGETS)
def test_each_vsix_carries_the_sidecar_of_the_source_tree(
    target_vsixes: dict[str, UnpackedVsix], target: str
) -> None:
    bundled = {
        f"cline_bridge/{name}": content
        for name, content in target_vsixes[target].under(LIBS + "common/cline_bridge/").items()
    }
    assert bundled == source_tree(), (
        "the VSIX's cline_bridge is the source tree's, module for module"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_nothing_of_the_build_machine_is_inside(
    target_vsixes: dict[str, UnpackedVsix], target: str
) -> None:
    files = target_vsixes[target].under(BUNDLED)
    leftovers = [
        name
        for name in files
        if "__pycache__/" in name
        or name.endswith(".pyc")
        or name.startswith("libs/bin/")
        or name.endswith("/direct_url.json")
    ]
    assert leftovers == [], "no bytecode, console scripts (their shebang) or build URLs"

    # The build's repository and temporary folders appear nowhere. Compiled modules come as the
    # registry's wheels hold them and may name the home folder of the image that built them,
    # so the home folder is looked for in every other file only.
    anywhere = [str(REPO), str(Path(tempfile.gettempdir()) / "pip-")]
    home = str(Path.home()).rstrip("/") + "/"
    for name, content in files.items():
        compiled = name.endswith((".so", ".pyd", ".dylib"))
        for needle in anywhere if compiled else [*anywhere, home]:
            assert needle.encode() not in content, f"{name} names {needle}"
