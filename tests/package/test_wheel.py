"""The package as PyPI users get it: ``python -m build`` makes a wheel and an sdist that pass
``twine check --strict``, hold the package and nothing else, and install into a fresh venv as a
working ``cline-bridge`` (its version, a REST chat against the fake API, an LSP handshake).

One build and one venv serve the whole session; both are removed when it ends.
"""

from __future__ import annotations

import asyncio
import configparser
import email.parser
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cline_bridge import __version__
from cline_bridge.wire import names
from tests.fakes.cline_api import FakeClineAPI, sse, text_chunks
from tests.support.environment import without_cline_settings
from tests.support.raw_peer import raw_sidecar, stop

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "cline_bridge"
BUILD_TIMEOUT = 300.0
"""Bound of a build or an install: the first one on a machine fetches setuptools and the
package's dependencies from the registry; later ones come from pip's cache in seconds."""
RUN_TIMEOUT = 30.0
"""Bound of one run of the installed command."""
KEY = "sk-test-PACKAGE-LEAK-CHECK-4242"
DIST_INFO = f"cline_bridge-{__version__}.dist-info/"

# The fixtures' build and install are counted in the first test's time.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT * 2)


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


def run(
    command: list[str | Path],
    timeout: float,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ``command`` to its end, with nothing on stdin; fail the test with its output unless
    it succeeds. Return its stdout."""
    done = subprocess.run(
        command,
        input="",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def package_files() -> set[str]:
    """What the package is made of in the source tree, as paths from the root (``server/...``)."""
    files = {path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}
    files.add(PACKAGE / "py.typed")
    return {path.relative_to(ROOT).as_posix() for path in files}


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dists]:
    """The sdist and the wheel as ``make dist`` builds them: the sdist from the checkout, then the
    wheel from the unpacked sdist (``build``'s default), which proves that the sdist holds all a
    build needs, and keeps setuptools' ``build/`` folder, with modules of earlier builds, out."""
    outdir = tmp_path_factory.mktemp("dist")
    try:
        run([sys.executable, "-m", "build", "--outdir", outdir, ROOT], BUILD_TIMEOUT)
        (wheel,) = outdir.glob("*.whl")
        (sdist,) = outdir.glob("*.tar.gz")
        yield Dists(wheel, sdist)
    finally:
        shutil.rmtree(outdir)


@pytest.fixture(scope="session")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv (no system site packages) with the wheel installed; its scripts folder."""
    venv = tmp_path_factory.mktemp("venv")
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    try:
        # The test's own pip installs into the venv: the venv's bundled pip would first have to
        # be copied in, which costs more than the install itself, and the wheel is on trial
        # here, not pip.
        run([sys.executable, "-m", "venv", "--without-pip", venv], BUILD_TIMEOUT)
        pip = [sys.executable, "-m", "pip", "--python", str(scripts / "python")]
        run([*pip, "install", "--quiet", dists.wheel], BUILD_TIMEOUT)
        yield scripts
    finally:
        shutil.rmtree(venv)


def installed_env(**extra: str) -> dict[str, str]:
    """The environment of the installed command: no Cline setting of ours, and nothing that could
    make it import the checkout's package instead of the venv's."""
    env = without_cline_settings(**extra)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"):
        env.pop(name, None)
    env["PYTHONNOUSERSITE"] = "1"
    return env


# -- the artefacts --------------------------------------------------------------------------------


def test_twine_check_strict_passes(dists: Dists) -> None:
    output = run(
        [sys.executable, "-m", "twine", "check", "--strict", dists.wheel, dists.sdist],
        RUN_TIMEOUT,
    )
    assert output.count("PASSED") == 2, output


def test_the_wheel_holds_the_package_and_its_metadata_only(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names_ = wheel.namelist()
    package = {name for name in names_ if name.startswith("cline_bridge/")}
    others = [name for name in names_ if not name.startswith(("cline_bridge/", DIST_INFO))]

    assert others == [], "nothing but the package: no tests, benchmarks or build leftovers"
    # Module for module the source tree's, py.typed included: no module missing, none stale.
    assert package == {name.removeprefix("server/") for name in package_files()}


def test_the_wheel_metadata(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        metadata = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            wheel.read(DIST_INFO + "METADATA")
        )
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(DIST_INFO + "entry_points.txt").decode())

    assert metadata["Name"] == "cline-bridge"
    assert metadata["Version"] == __version__
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert str(metadata.get_payload()).startswith("# cline-bridge\n"), (
        "the README is the description"
    )
    classifiers = metadata.get_all("Classifier", [])
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert "Operating System :: OS Independent" in classifiers
    assert dict(entry_points["console_scripts"]) == {"cline-bridge": "cline_bridge.cli:main"}


def test_the_sdist_holds_what_a_build_needs_and_no_more(dists: Dists) -> None:
    top = f"cline_bridge-{__version__}/"
    with tarfile.open(dists.sdist) as sdist:
        files = {member.name.removeprefix(top) for member in sdist.getmembers() if member.isfile()}
        pkg_info = sdist.extractfile(top + "PKG-INFO")
        assert pkg_info is not None
        metadata = email.parser.BytesParser(policy=email.policy.compat32).parse(pkg_info)

    egg_info = {name for name in files if name.startswith("server/cline_bridge.egg-info/")}
    licenses = {path.name for path in ROOT.glob("LICEN[CS]E*")}
    expected = {"PKG-INFO", "setup.cfg", "README.md", "pyproject.toml", *licenses}
    # No tests, test data, benchmarks, node_modules or VSIX: the package, and what builds it.
    assert files - egg_info == expected | package_files()
    assert metadata["Version"] == __version__


# -- the installed command ------------------------------------------------------------------------


def test_the_venv_imports_its_own_copy(installed: Path, tmp_path: Path) -> None:
    where = run(
        [installed / "python", "-c", "import cline_bridge; print(cline_bridge.__file__)"],
        RUN_TIMEOUT,
        env=installed_env(),
        cwd=tmp_path,
    )
    assert Path(where.strip()).is_relative_to(installed.parent), where


def test_the_installed_command_says_its_version_and_chats(
    installed: Path, fake_api: FakeClineAPI, tmp_path: Path
) -> None:
    command = installed / "cline-bridge"
    env = installed_env(CLINE_API_KEY=KEY, CLINE_API_BASE_URL=fake_api.url)
    assert run([command, "--version"], RUN_TIMEOUT, env=env) == f"cline-bridge {__version__}\n"

    fake_api.script(sse(text_chunks("fine")))
    answer = run([command, "chat", "hello"], RUN_TIMEOUT, env=env, cwd=tmp_path)

    assert answer == "fine\n"
    (request,) = fake_api.chat_requests
    assert request.headers["user-agent"] == f"cline-bridge/{__version__}"


async def test_the_installed_server_answers_initialize_and_status(
    installed: Path, tmp_path: Path
) -> None:
    env = installed_env(XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    command = [str(installed / "cline-bridge"), "serve"]

    async with raw_sidecar(command, env=env) as sidecar:
        response = await sidecar.initialize()
        status = await sidecar.execute(names.CMD_STATUS)
        discovery = Path(status["result"]["control"]["discoveryFile"])
        record = json.loads(await asyncio.to_thread(discovery.read_text))
        log = await stop(sidecar)

    assert response["result"]["serverInfo"] == {"name": "cline-bridge", "version": __version__}
    assert status["result"]["version"] == __version__, log
    assert discovery.is_relative_to(tmp_path / "run")
    assert record["version"] == __version__
    assert not await asyncio.to_thread(discovery.exists), "the discovery file goes with the sidecar"
