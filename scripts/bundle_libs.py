"""Fill a VSIX's ``bundled/`` folder with the sidecar and its dependencies for one VS Code target.

Why: the extension runs the sidecar on the user's own Python, whose minor version we cannot know
when the VSIX is built, and pydantic-core (like every compiled dependency) exists per CPython ABI
and per platform. So the VSIX for one target (linux-x64, darwin-arm64, ...) carries one library
folder per supported ABI, filled from that target's wheels, and keeps what the ABIs share once:

    bundled/libs/common/   cline_bridge, and every distribution identical for all ABIs
    bundled/libs/cp3XX/    the rest for CPython 3.XX, *.dist-info as pip writes them
    bundled/manifest.json  {"target", "abis", "version", "python"}

The launcher puts ``libs/<abi>`` then ``libs/common`` on PYTHONPATH. A distribution moves to
``common`` whole (packages, modules and dist-info together) or not at all.

Usage: ``bundle_libs.py --target linux-x64 --out vscode-client/bundled`` (replaces ``--out``), or
``bundle_libs.py --host-target`` to print the target of the machine it runs on.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABIS = ("cp310", "cp311", "cp312", "cp313")
PIP_TIMEOUT = 600.0
"""Bound of one pip run: the first one on a machine downloads the wheels (a few MB each) and
setuptools; later runs come from pip's cache in seconds."""
PIP_PARALLEL = 2
"""pip runs at a time: each spends half its time waiting on files or the network."""

# VS Code 1.86+ needs glibc 2.28 and the extension needs VS Code 1.91 (engines.vscode), so every
# Linux user has at least glibc 2.28. pip does not expand manylinux_2_X tags downwards (only the
# legacy manylinux2014 alias), hence the explicit list, newest first as pip ranks them.
_MANYLINUX_GLIBC_MINORS = range(28, 16, -1)


@dataclass(frozen=True)
class Target:
    """A VS Code target platform: the wheel tags that run there, and how PEP 508 markers see it."""

    platforms: tuple[str, ...]
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str

    def marker_environment(self, abi: str) -> dict[str, str]:
        """The PEP 508 environment of CPython ``abi`` on this target (x.y.0 for the full
        version: markers on patch releases cannot be judged before the user's Python is known)."""
        version = f"3.{abi.removeprefix('cp3')}"
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.0",
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": f"{version}.0",
            "python_version": version,
            "sys_platform": self.sys_platform,
        }


def _manylinux(arch: str) -> tuple[str, ...]:
    glibc = tuple(f"manylinux_2_{minor}_{arch}" for minor in _MANYLINUX_GLIBC_MINORS)
    return (*glibc, f"manylinux2014_{arch}")


# pip expands a macOS tag to every older release and to the universal2 builds; the newest tag
# given is the oldest macOS the VSIX supports (10.15 for Intel with VS Code 1.91, 11.0 for Apple
# silicon): a wheel built for a newer macOS would fail to load there.
TARGETS: dict[str, Target] = {
    "linux-x64": Target(_manylinux("x86_64"), "linux", "Linux", "posix", "x86_64"),
    "linux-arm64": Target(_manylinux("aarch64"), "linux", "Linux", "posix", "aarch64"),
    "darwin-x64": Target(("macosx_10_15_x86_64",), "darwin", "Darwin", "posix", "x86_64"),
    "darwin-arm64": Target(("macosx_11_0_arm64",), "darwin", "Darwin", "posix", "arm64"),
    "win32-x64": Target(("win_amd64",), "win32", "Windows", "nt", "AMD64"),
}

# pip evaluates dependency markers (exceptiongroup; python_version < "3.11") against the Python
# that runs it, not the one --python-version names, so building cp310 libraries from 3.11 would
# leave exceptiongroup out. This runs pip with the target's marker environment instead.
# check_requirements() verifies the result, should a pip release stop honouring it.
_PIP_WITH_TARGET_MARKERS = """
import json, runpy, sys
import pip._vendor.packaging.markers as markers
environment = json.loads(sys.argv.pop(1))
markers.default_environment = lambda: dict(environment)
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""

# The source files a wheel of the project is built from; license files are optional.
_PROJECT_FILES = ("pyproject.toml", "README.md")
_LICENSE_PATTERNS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
_COMPILED_SUFFIXES = (".so", ".pyd", ".dylib")


class BundleError(Exception):
    """The bundle cannot be built as asked; the message says why."""


def host_target() -> str:
    """The VS Code target of this machine, e.g. ``linux-x64``."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system())
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    name = f"{system}-{arch}"
    if system is None or arch is None or name not in TARGETS:
        raise BundleError(
            f"no VSIX target for {platform.system()} {platform.machine()}; "
            f"pass one of {', '.join(TARGETS)}"
        )
    return name


def run_pip(arguments: Sequence[str], environment: dict[str, str] | None = None) -> None:
    """Run pip (with ``environment`` as its marker environment, if given) within PIP_TIMEOUT."""
    if environment is None:
        command = [sys.executable, "-m", "pip", *arguments]
    else:
        command = [sys.executable, "-c", _PIP_WITH_TARGET_MARKERS, json.dumps(environment)]
        command += arguments
    common = ["--disable-pip-version-check", "--no-input", "--quiet"]
    try:
        done = subprocess.run(
            [*command, *common],
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise BundleError(f"pip {arguments[0]} took over {PIP_TIMEOUT:.0f} s") from error
    if done.returncode != 0:
        raise BundleError(f"pip {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")


def build_project_wheel(work: Path) -> Path:
    """Build the project's wheel from a copy of its sources, so that neither setuptools' build/
    folder (which keeps the modules of earlier builds) nor egg-info lands in the tree."""
    source = work / "source"
    source.mkdir()
    names = [*_PROJECT_FILES, *(p.name for g in _LICENSE_PATTERNS for p in REPO.glob(g))]
    for name in names:
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "server",
        source / "server",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    wheels = work / "wheel"
    run_pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("*.whl")
    return wheel


def install_for_abi(wheel: Path, target: Target, abi: str, into: Path) -> None:
    """Install the project and its dependencies as CPython ``abi`` on ``target`` needs them."""
    platforms = [option for tag in target.platforms for option in ("--platform", tag)]
    arguments = [
        "install",
        "--target",
        str(into),
        "--no-compile",
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        f"3.{abi.removeprefix('cp3')}",
        "--implementation",
        "cp",
        "--abi",
        abi,
        # The check would judge this Python's own packages, which the bundle never meets.
        "--no-warn-conflicts",
        "--no-warn-script-location",
        str(wheel),
    ]
    run_pip(arguments, target.marker_environment(abi))


def distributions(folder: Path) -> dict[str, Path]:
    """The dist-info folders in ``folder``, by canonical distribution name."""
    found = {}
    for dist_info in folder.glob("*.dist-info"):
        name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        found[name.lower().replace("_", "-").replace(".", "-")] = dist_info
    return found


def check_requirements(folder: Path, environment: dict[str, str]) -> None:
    """Fail unless every requirement that applies in ``environment`` is installed in ``folder``."""
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

    installed = {canonicalize_name(name) for name in distributions(folder)}
    missing = set()
    for dist_info in distributions(folder).values():
        metadata = (dist_info / "METADATA").read_text(encoding="utf-8")
        for line in metadata.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.removeprefix("Requires-Dist:").strip())
            applies = requirement.marker is None or requirement.marker.evaluate(
                {**environment, "extra": ""}
            )
            if applies and canonicalize_name(requirement.name) not in installed:
                missing.add(f"{requirement} (for {dist_info.name})")
    if missing:
        raise BundleError(f"{folder.name} lacks {', '.join(sorted(missing))}")


def scrub(folder: Path) -> None:
    """Remove what would tie the bundle to the build machine or is not needed: console scripts
    (their shebang names the build's Python; the launcher runs ``python -m``), direct_url.json
    (the build's path), bytecode. RECORD files follow, so they list only what is there."""
    shutil.rmtree(folder / "bin", ignore_errors=True)
    for cache in list(folder.rglob("__pycache__")):
        shutil.rmtree(cache)
    for removable in [*folder.rglob("*.pyc"), *folder.glob("*.dist-info/direct_url.json")]:
        removable.unlink()
    for record in folder.glob("*.dist-info/RECORD"):
        with record.open(newline="", encoding="utf-8") as stream:
            rows = [row for row in csv.reader(stream) if row]
        kept = [row for row in rows if not row[0].startswith("../") and (folder / row[0]).exists()]
        with record.open("w", newline="", encoding="utf-8") as stream:
            csv.writer(stream, lineterminator="\n").writerows(kept)


def digest(path: Path) -> str:
    """A hash of a file's bytes, or of a folder's file names and bytes."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    summary = hashlib.sha256()
    for file in files:
        summary.update(file.relative_to(path.parent).as_posix().encode() + b"\0")
        summary.update(hashlib.sha256(file.read_bytes()).digest())
    return summary.hexdigest()


def top_level_groups(folder: Path) -> list[set[str]]:
    """The top-level entries of ``folder``, grouped by the distribution that owns them (as its
    RECORD says); distributions sharing an entry form one group, so none is ever split."""
    groups: list[set[str]] = []
    owned: set[str] = set()
    for dist_info in distributions(folder).values():
        with (dist_info / "RECORD").open(newline="", encoding="utf-8") as stream:
            entries = {row[0].split("/", 1)[0] for row in csv.reader(stream) if row}
        entries.add(dist_info.name)
        overlapping = [group for group in groups if group & entries]
        for group in overlapping:
            groups.remove(group)
            entries |= group
        groups.append(entries)
        owned |= entries
    groups += [{entry.name} for entry in folder.iterdir() if entry.name not in owned]
    return groups


def move_shared_to_common(per_abi: dict[str, Path], common: Path) -> None:
    """Move each distribution whose files are byte-identical for every ABI into ``common``."""
    first = per_abi[ABIS[0]]
    for group in top_level_groups(first):
        signatures = set()
        for folder in per_abi.values():
            present = {name for name in group if (folder / name).exists()}
            signatures.add(tuple(sorted((n, digest(folder / n)) for n in present)))
        if len(signatures) != 1:
            continue
        for name in group:
            shutil.move(first / name, common / name)
            for folder in list(per_abi.values())[1:]:
                remove(folder / name)


def remove(path: Path) -> None:
    """Remove a file or a folder."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def project_version(common: Path) -> str:
    """cline_bridge's version, as its wheel's metadata has it (cline_bridge.__version__)."""
    dist_info = distributions(common).get("cline-bridge")
    if dist_info is None or not (common / "cline_bridge").is_dir():
        raise BundleError("cline_bridge did not end up in libs/common")
    for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
        if line.startswith("Version:"):
            return line.removeprefix("Version:").strip()
    raise BundleError(f"{dist_info.name}/METADATA has no Version")


def check_no_build_paths(bundle: Path, work: Path) -> None:
    """Fail if a file names this machine's repository, home or build folders. Compiled modules
    come verbatim from the registry's wheels and may name the home folder of the image that
    built them, so only the repository and build folders are looked for there."""
    everywhere = [str(REPO), str(work), os.path.join(tempfile.gettempdir(), "pip-")]
    home = str(Path.home()).rstrip(os.sep) + os.sep
    for file in (p for p in bundle.rglob("*") if p.is_file()):
        content = file.read_bytes()
        needles = everywhere if file.suffix in _COMPILED_SUFFIXES else [*everywhere, home]
        for needle in needles:
            if needle.encode() in content:
                raise BundleError(f"{file.relative_to(bundle)} names the build machine: {needle}")


def write_manifest(bundle: Path, target_name: str, version: str) -> None:
    """Tell the launcher (and a reader) what the bundle is for."""
    minors = [int(abi.removeprefix("cp3")) for abi in ABIS]
    manifest = {
        "target": target_name,
        "abis": list(ABIS),
        "version": version,
        "python": f">=3.{min(minors)},<3.{max(minors) + 1}",
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def build_bundle(target_name: str, out: Path) -> None:
    """Build the bundle for ``target_name`` and put it at ``out``, replacing what was there.

    The work happens next to ``out`` and is renamed into place at the end, so an interrupted
    build never leaves a half-filled bundle behind."""
    target = TARGETS[target_name]
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        print(f"bundle_libs: {target_name}: building the project's wheel", file=sys.stderr)
        wheel = build_project_wheel(work)
        bundle = work / "bundled"
        per_abi = {abi: bundle / "libs" / abi for abi in ABIS}
        print(f"bundle_libs: {target_name}: installing for {', '.join(ABIS)}", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=PIP_PARALLEL) as pool:
            installs = [
                pool.submit(install_for_abi, wheel, target, abi, folder)
                for abi, folder in per_abi.items()
            ]
            for install in installs:
                install.result()
        for abi, folder in per_abi.items():
            check_requirements(folder, target.marker_environment(abi))
            scrub(folder)
        common = bundle / "libs" / "common"
        common.mkdir()
        move_shared_to_common(per_abi, common)
        write_manifest(bundle, target_name, project_version(common))
        check_no_build_paths(bundle, work)
        shutil.rmtree(out, ignore_errors=True)
        bundle.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--target", choices=sorted(TARGETS), help="the VS Code target to build")
    action.add_argument("--host-target", action="store_true", help="print this machine's target")
    parser.add_argument("--out", type=Path, help="the bundled/ folder to (re)create")
    arguments = parser.parse_args(argv)
    try:
        if arguments.host_target:
            print(host_target())
            return 0
        if arguments.out is None:
            parser.error("--target needs --out")
        build_bundle(arguments.target, arguments.out)
    except BundleError as error:
        print(f"bundle_libs: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
