"""The sidecar from the packaged VSIX, under every CPython the VSIX carries libraries for.

For each pyenv CPython 3.10-3.13 the test starts the sidecar from the unpacked VSIX exactly as the
extension does (launch.ts: the extension folder as working directory, ``PYTHONPATH`` = the ABI's
libraries then the common ones), with nothing of the repository or the user's site-packages in
reach, and runs ``clineBridge.chat`` against the fake Cline API and a task through the editor
host. No editor is needed, so these are not e2e tests; code-server's own test of a non-build
interpreter is in test_code_server.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from tests.editors.vscode.workbench import REPO
from tests.fakes.cline_api import FakeClineAPI, sse, text_chunks
from tests.support.editor_double import DOUBLE_OPTIONS, STARTED, EditorClient
from tests.support.processes import exe
from tests.support.pyenv import PythonMissing, pyenv_python
from tests.support.sidecar import execute
from tests.support.vsix_bundle import UnpackedVsix, VsixLayoutError, unpack_vsix

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
API_KEY = "sk-vsix-pythons-0b7d41"  # made up
QUESTION = "What is the capital of France? (vsix 9e2a)"
TASK = "Add type hints to utils.py (vsix 5c1e)"
TIMEOUT = 15.0
"""Seconds any one step may take; a sidecar starts in well under one."""
MODULES = ("cline_bridge", "pygls", "lsprotocol", "httpx", "pydantic", "pydantic_core")
"""What the sidecar imports that is not the standard library: all must come from the bundle."""
ABI_TAG = re.compile(r"\.cpython-(\d+)")
"""The ABI in an extension module's file name: ``_json.cpython-312-x86_64-linux-gnu.so``."""
FIND_MODULES = (
    "import importlib.util as u, json; "
    f"print(json.dumps({{m: getattr(u.find_spec(m), 'origin', None) for m in {MODULES!r}}}))"
)


@pytest.fixture(scope="session")
def unpacked_vsix(bridge_vsix: Path) -> Iterator[UnpackedVsix]:
    """The VSIX unpacked once per session (per worker), removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="cline-bridge-vsix-"))
    try:
        try:
            unpacked = unpack_vsix(bridge_vsix, folder)
        except VsixLayoutError as error:
            pytest.fail(str(error), pytrace=False)
        yield unpacked
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class BundledEditor(EditorClient):
    """The extension's double, keeping the sidecar's process to inspect it and to kill it."""

    process: asyncio.subprocess.Process | None = None

    async def start_io(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        await super().start_io(cmd, *args, **kwargs)
        self.process = self._server


@asynccontextmanager
async def bundled_sidecar(
    unpacked: UnpackedVsix, python: Path, env: dict[str, str]
) -> AsyncIterator[BundledEditor]:
    """The sidecar as the extension starts it; at the end it is shut down, or killed by pid."""
    editor = BundledEditor()
    command = unpacked.sidecar_command(python)
    await asyncio.wait_for(editor.start_io(*command, env=env, cwd=unpacked.extension), TIMEOUT)
    try:
        yield editor
    finally:
        with suppress(Exception):  # the test's own failure is the one to report
            await asyncio.wait_for(editor.shutdown_session(), TIMEOUT)
        if editor.process is not None and editor.process.returncode is None:
            editor.process.kill()
        await asyncio.wait_for(editor.stop(), TIMEOUT)


def _python(version: str) -> Path:
    try:
        return pyenv_python(version)
    except PythonMissing as error:
        pytest.fail(str(error), pytrace=False)


def _module_origins(python: Path, cwd: Path, env: dict[str, str]) -> dict[str, str | None]:
    found = subprocess.run(
        [str(python), "-c", FIND_MODULES], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=TIMEOUT, check=True,
    )  # fmt: skip
    origins: dict[str, str | None] = json.loads(found.stdout)
    return origins


def _assert_only_the_bundle_provides_the_sidecar(
    python: Path, unpacked: UnpackedVsix, env: dict[str, str]
) -> None:
    """Under the sidecar's environment every third-party module resolves into the unpacked VSIX;
    without its PYTHONPATH this interpreter cannot find the sidecar at all."""
    extension = unpacked.extension.resolve()
    origins = _module_origins(python, unpacked.extension, env)
    outside = {
        name: origin
        for name, origin in origins.items()
        if origin is None or not Path(origin).resolve().is_relative_to(extension)
    }
    assert not outside, f"not from the VSIX under {python}: {outside}"
    bare = {name: value for name, value in env.items() if name != "PYTHONPATH"}
    without = _module_origins(python, unpacked.extension, bare)
    assert without["cline_bridge"] is None, f"{python} finds cline_bridge without the bundle"


def _assert_runs_under(pid: int, python: Path, version: str) -> None:
    """The process is ``python`` itself (not a shim), and that interpreter is ``version``."""
    running = exe(pid)
    assert running is not None, f"the sidecar (pid {pid}) is gone"
    assert Path(running) == python.resolve()
    answer = subprocess.run(
        [running, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, timeout=TIMEOUT, check=True,
    )  # fmt: skip
    assert answer.stdout.strip() == version


def _assert_loads_the_bundles_compiled_libraries(
    pid: int, unpacked: UnpackedVsix, abi: str, version: str
) -> None:
    """The sidecar's mapped extension modules are all of its own ABI, pydantic-core's from
    ``libs/<abi>``, and nothing it maps lies in the repository (its venv, its sources)."""
    mapped = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            mapped.add(Path(fields[5]))
    tags = {tag.group(1) for path in mapped if (tag := ABI_TAG.search(path.name))}
    assert tags == {version.replace(".", "")}, f"extension modules of other ABIs: {sorted(mapped)}"
    libs = unpacked.libs(abi)[0].resolve()
    core = [path for path in mapped if path.name.startswith("_pydantic_core.")]
    assert core, "pydantic-core is not loaded: the chat did not use the REST client"
    assert all(path.resolve().is_relative_to(libs) for path in core), f"{core} not under {libs}"
    repository = [path for path in mapped if path.resolve().is_relative_to(REPO)]
    assert not repository, f"the sidecar maps files of the repository: {repository}"


@pytest.mark.parametrize("version", PYTHONS)
async def test_the_vsix_sidecar_answers_chat_and_tasks_under_each_python(
    version: str, unpacked_vsix: UnpackedVsix, fake_api: FakeClineAPI
) -> None:
    python = _python(version)
    abi = "cp" + version.replace(".", "")
    assert abi in unpacked_vsix.manifest["abis"], f"the VSIX carries {unpacked_vsix.manifest}"
    # The extension passes the key in the environment, never in initializationOptions.
    env = unpacked_vsix.sidecar_env(abi, CLINE_API_KEY=API_KEY)
    _assert_only_the_bundle_provides_the_sidecar(python, unpacked_vsix, env)
    fake_api.script(sse(text_chunks("Paris ", "it is.")))

    async with bundled_sidecar(unpacked_vsix, python, env) as editor:
        await asyncio.wait_for(
            editor.initialize_session(
                types.InitializeParams(
                    capabilities=client_capabilities("visual-studio-code"),
                    client_info=types.ClientInfo(name="cline-bridge-vsix-test"),
                    initialization_options={**DOUBLE_OPTIONS, "apiBaseUrl": fake_api.url},
                )
            ),
            TIMEOUT,
        )

        chat = execute(editor, "clineBridge.chat", {"prompt": QUESTION})
        answer = await asyncio.wait_for(chat, TIMEOUT)
        assert answer["text"] == "Paris it is."
        [request] = fake_api.requests
        assert request.headers.get("authorization") == f"Bearer {API_KEY}"
        assert request.json["messages"][-1] == {"role": "user", "content": QUESTION}

        started = await asyncio.wait_for(execute(editor, "clineBridge.startNewTask", TASK), TIMEOUT)
        assert started == STARTED
        assert editor.cline.calls == [("clineBridge/startNewTask", {"task": TASK})]

        status = await asyncio.wait_for(execute(editor, "clineBridge.status"), TIMEOUT)
        assert status["version"] == unpacked_vsix.manifest["version"]
        assert editor.process is not None
        assert status["pid"] == editor.process.pid
        _assert_runs_under(status["pid"], python, version)
        _assert_loads_the_bundles_compiled_libraries(status["pid"], unpacked_vsix, abi, version)
