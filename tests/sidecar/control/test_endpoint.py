"""Scripts reach the editor's Cline through the control endpoint, and only with the token."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from tests.support.control_sidecar import Sidecar, running_sidecar
from tests.support.editor_double import PRESSED, STARTED
from tests.support.raw_control import RawControl


async def authenticated(sidecar: Sidecar) -> RawControl:
    control = await RawControl.open(sidecar.record["endpoint"])
    reply = await control.initialize(sidecar.record["token"])
    assert reply["result"]["serverInfo"]["name"] == "cline-bridge"
    return control


async def test_the_discovery_record_describes_the_sidecar(
    sidecar: Sidecar, workspace: Path
) -> None:
    record = sidecar.record

    assert record["endpoint"].startswith("unix:")
    assert record["workspaceFolders"] == [str(workspace)]
    assert record["host"] == "editor"
    assert sidecar.discovery_file.name == f"{record['pid']}.json"
    assert len(record["token"]) >= 32


async def test_a_script_command_reaches_the_editor_with_exact_params(sidecar: Sidecar) -> None:
    control = await authenticated(sidecar)
    try:
        reply = await control.execute("clineBridge.startNewTask", {"task": "from a script"})
        approve = await control.execute("clineBridge.pressPrimaryButton")
    finally:
        await control.close()

    assert reply["result"] == STARTED
    assert approve["result"] == PRESSED
    assert sidecar.editor.cline.calls == [  # type: ignore[attr-defined]
        ("clineBridge/startNewTask", {"task": "from a script"}),
        ("clineBridge/pressPrimaryButton", {}),
    ]


@pytest.mark.parametrize(
    "token",
    [None, "", "wrong-token", "x" * 43],
    ids=["missing", "empty", "wrong", "same-length"],
)
async def test_without_the_token_nothing_gets_through(sidecar: Sidecar, token: str | None) -> None:
    control = await RawControl.open(sidecar.record["endpoint"])
    try:
        reply = await control.initialize(token)
        assert reply["error"]["code"] == -32005
        assert await control.closed_by_peer()
    finally:
        await control.close()
    assert sidecar.editor.cline.calls == []  # type: ignore[attr-defined]


async def test_a_command_before_initialize_is_refused(sidecar: Sidecar) -> None:
    control = await RawControl.open(sidecar.record["endpoint"])
    try:
        reply = await control.execute("clineBridge.startNewTask", "sneaky")
        assert reply["error"]["code"] == -32005
        assert await control.closed_by_peer()
    finally:
        await control.close()
    assert sidecar.editor.cline.calls == []  # type: ignore[attr-defined]


async def test_the_token_of_another_bridge_is_refused(
    sidecar: Sidecar, runtime_dir: Path, tmp_path: Path
) -> None:
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    async with running_sidecar(runtime_dir, other_folder) as other:
        control = await RawControl.open(sidecar.record["endpoint"])
        try:
            reply = await control.initialize(other.record["token"])
            assert reply["error"]["code"] == -32005
        finally:
            await control.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_files_are_private(sidecar: Sidecar, runtime_dir: Path) -> None:
    folder = sidecar.discovery_file.parent
    socket_path = Path(sidecar.record["endpoint"].removeprefix("unix:"))

    assert _mode(folder) == 0o700
    assert _mode(sidecar.discovery_file) == 0o600
    assert _mode(socket_path) == 0o600
    assert folder.parent == runtime_dir


async def test_the_discovery_file_goes_away_at_shutdown(runtime_dir: Path, workspace: Path) -> None:
    async with running_sidecar(runtime_dir, workspace) as sidecar:
        discovery_file = sidecar.discovery_file
        assert discovery_file.exists()

    assert not discovery_file.exists()


async def test_the_tcp_fallback_binds_loopback_only(runtime_dir: Path, workspace: Path) -> None:
    async with running_sidecar(runtime_dir, workspace, "--control-transport", "tcp") as sidecar:
        endpoint = sidecar.record["endpoint"]
        assert endpoint.startswith("tcp:127.0.0.1:")
        port = int(endpoint.rsplit(":", 1)[1])
        assert _listening_addresses(port) == {"127.0.0.1"}
        control = await authenticated(sidecar)
        try:
            reply = await control.execute("clineBridge.pressSecondaryButton")
            assert reply["result"] == PRESSED
        finally:
            await control.close()


def _listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses listening on ``port``, from /proc/net (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(_decode_address(address))
    return found


def _decode_address(hex_address: str) -> str:
    if len(hex_address) == 8:
        return ".".join(str(b) for b in reversed(bytes.fromhex(hex_address)))
    return hex_address  # IPv6: any entry at all would be a failure of this test


async def test_status_and_chat_errors_travel_too(sidecar: Sidecar) -> None:
    control = await authenticated(sidecar)
    try:
        status = await control.execute("clineBridge.status")
        no_key = await control.execute("clineBridge.chat", {"prompt": "hi"})
        bad = await control.execute("clineBridge.startNewTask", 42)
        unknown = await control.request("textDocument/hover", {})
    finally:
        await control.close()

    assert status["result"]["host"] == "editor"
    assert "token" not in str(status["result"]["control"])
    assert no_key["error"]["code"] == -32003
    assert bad["error"]["code"] == -32602
    assert unknown["error"]["code"] == -32601


async def test_malformed_input_closes_only_that_connection(sidecar: Sidecar) -> None:
    for garbage in (
        b"Content-Length: 5\r\n\r\n{nope",
        b"Content-Length: 99999999999\r\n\r\n",
        b"X-Evil: 1\r\n\r\n",
        b"Content-Length: abc\r\n\r\n",
        b"no header at all" + b"x" * 10_000,
    ):
        control = await authenticated(sidecar)
        await control.send_raw(garbage)
        assert await control.closed_by_peer()
        await control.close()

    control = await authenticated(sidecar)
    try:
        assert (await control.execute("clineBridge.pressPrimaryButton"))["result"] == PRESSED
    finally:
        await control.close()
    await asyncio.sleep(0)
