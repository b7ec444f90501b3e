"""Two real sidecars, one CLI: each script reaches the bridge the contract's rules choose."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.control_sidecar import Sidecar, running_sidecar, sidecar_env

TIMEOUT = 30


async def cli(
    runtime_dir: Path, cwd: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a thread: the test's event loop must go on answering as the editor."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cline_bridge", *args],
        cwd=cwd,
        env={**sidecar_env(runtime_dir), **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def tasks_of(sidecar: Sidecar) -> list[str]:
    return [params["task"] for _, params in sidecar.editor.cline.calls]  # type: ignore[attr-defined]


async def test_scripts_reach_the_bridge_the_rules_choose(runtime_dir: Path, tmp_path: Path) -> None:
    outer = tmp_path / "project"
    inner = outer / "packages" / "app"
    inner.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with (
        running_sidecar(runtime_dir, outer) as outer_bridge,
        running_sidecar(runtime_dir, inner) as inner_bridge,
    ):
        deep = inner / "src"
        deep.mkdir()
        assert (await cli(runtime_dir, deep, "task", "deepest folder wins")).returncode == 0
        assert (await cli(runtime_dir, outer, "task", "the folder holding cwd")).returncode == 0
        via_env = await cli(
            runtime_dir,
            deep,
            "task",
            "CLINE_BRIDGE wins",
            CLINE_BRIDGE=str(outer_bridge.discovery_file),
        )
        via_flag = await cli(
            runtime_dir,
            deep,
            "task",
            "--bridge wins",
            "--bridge",
            str(outer_bridge.discovery_file),
            CLINE_BRIDGE=str(inner_bridge.discovery_file),
        )
        ambiguous = await cli(runtime_dir, elsewhere, "task", "which one?")
        status = await cli(runtime_dir, inner, "status")

    assert (via_env.returncode, via_flag.returncode) == (0, 0)
    assert tasks_of(inner_bridge) == ["deepest folder wins"]
    assert tasks_of(outer_bridge) == [
        "the folder holding cwd",
        "CLINE_BRIDGE wins",
        "--bridge wins",
    ]
    assert ambiguous.returncode == 1
    assert str(outer_bridge.record["pid"]) in ambiguous.stderr
    assert str(inner_bridge.record["pid"]) in ambiguous.stderr
    assert status.returncode == 0
    assert str(outer_bridge.record["pid"]) in status.stdout
    assert str(inner_bridge.record["pid"]) in status.stdout


async def test_one_live_bridge_is_reached_from_anywhere_and_stale_files_are_cleaned(
    runtime_dir: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await asyncio.wait_for(dead.wait(), TIMEOUT)
    async with running_sidecar(runtime_dir, workspace) as bridge:
        folder = bridge.discovery_file.parent
        stale = folder / f"{dead.pid}.json"
        record = {**bridge.record, "pid": dead.pid, "workspaceFolders": [str(tmp_path)]}
        stale.write_text(json.dumps(record))
        os.chmod(stale, 0o600)

        done = await cli(runtime_dir, tmp_path, "task", "the only live one")

        assert done.returncode == 0, done.stderr
        assert tasks_of(bridge) == ["the only live one"]
        assert not stale.exists()


async def test_no_bridge_says_how_to_start_one(runtime_dir: Path, tmp_path: Path) -> None:
    done = await cli(runtime_dir, tmp_path, "approve")

    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "No cline-bridge is running" in done.stderr
