"""``cline-bridge serve`` loads the sidecar and nothing of the other programs: not the script
library, not the other subcommands, not the REST client before a chat, not the ACP host for an
editor with the ClineAPI (``tests/support/module_report.py`` reports, at the end of a real run)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.support import module_report
from tests.support.environment import without_cline_settings
from tests.support.module_report import loaded
from tests.support.raw_peer import TIMEOUT, raw_sidecar

NOT_THE_SIDECAR = (
    "cline_bridge.client",
    "cline_bridge.cli.tasks",
    "cline_bridge.cli.follow",
    "cline_bridge.cli.rest",
    "cline_bridge.api.cline_client",
    "httpx",
    "pydantic",
    "cline_bridge.sidecar.hosts.acp",
)


async def test_serve_loads_only_the_sidecar(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = without_cline_settings()
    command = [sys.executable, module_report.__file__, str(report), "--", "serve"]

    async with raw_sidecar(command, {**env, "XDG_RUNTIME_DIR": str(runtime)}) as sidecar:
        initialized = await sidecar.initialize({"clineApi": True})
        status = await sidecar.execute("clineBridge.status")
        no_key = await sidecar.execute("clineBridge.chat", {"prompt": "hi"})
        await sidecar.request("shutdown")
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
        assert await asyncio.wait_for(sidecar.process.wait(), TIMEOUT) == 0

    assert "result" in initialized
    assert status["result"]["host"] == "editor"
    assert no_key["error"]["code"] == -32003
    modules = set(json.loads(report.read_text()))
    assert "cline_bridge.sidecar.server" in modules
    assert loaded(modules, NOT_THE_SIDECAR) == []
