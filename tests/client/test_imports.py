"""The script library loads neither the sidecar's packages nor the REST client's, in a real run;
its blocking calls do without asyncio too (``tests/support/module_report.py`` reports)."""

from __future__ import annotations

from pathlib import Path

from tests.support.environment import without_cline_settings
from tests.support.fake_endpoint import FakeEndpoint
from tests.support.module_report import HEAVY, loaded, run_reporting
from tests.support.sidecar import MISSING_CLINE

NOT_ASYNCIO = tuple(package for package in HEAVY if package != "asyncio")


def clean_env() -> dict[str, str]:
    return without_cline_settings()


def test_the_blocking_calls_load_no_pygls_pydantic_httpx_or_asyncio(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    code = f"""
from cline_bridge import client
bridge = {str(bridge_file)!r}
assert client.start_new_task("go", images=["shot.png"], bridge=bridge)["host"] == "editor"
client.send_message("and this", bridge=bridge)
client.approve(bridge=bridge)
client.reject(bridge=bridge)
client.status(bridge=bridge)
try:
    client.approve(bridge={str(tmp_path / "missing.json")!r})
except client.BridgeNotFoundError:
    pass
"""
    done, modules = run_reporting(["--code", code], tmp_path / "report.json", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert len(fake.commands()) == 5, "every call reached the bridge"
    assert loaded(modules) == []


def test_bridge_loads_asyncio_and_still_no_pygls_pydantic_or_httpx(
    fake: FakeEndpoint, bridge_file: Path, tmp_path: Path
) -> None:
    code = f"""
import asyncio
from cline_bridge.client import Bridge

async def main() -> None:
    async with Bridge.connect({str(bridge_file)!r}, subscribe_events=True) as bridge:
        await bridge.start_new_task("go")
        await bridge.chat("hi", on_text=print)
        await bridge.status()

asyncio.run(main())
"""
    done, modules = run_reporting(["--code", code], tmp_path / "report.json", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert [params["command"] for params in fake.commands()] == [
        "clineBridge.startNewTask",
        "clineBridge.chat",
        "clineBridge.status",
    ]
    assert loaded(modules, NOT_ASYNCIO) == []
    assert loaded(modules, ["asyncio"]) == ["asyncio"]


def test_a_headless_bridge_leaves_pygls_to_its_child(tmp_path: Path) -> None:
    code = f"""
import asyncio
from cline_bridge.client import Bridge, NoHostError

async def main() -> None:
    options = {{"acp": {{"command": [{MISSING_CLINE!r}, "--acp"]}}}}
    async with Bridge.headless(options=options) as bridge:
        assert (await bridge.status())["host"] == "none"
        try:
            await bridge.start_new_task("go")
        except NoHostError:
            pass

asyncio.run(main())
"""
    done, modules = run_reporting(
        ["--code", code], tmp_path / "report.json", cwd=tmp_path, env=clean_env()
    )

    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert loaded(modules, NOT_ASYNCIO) == []
