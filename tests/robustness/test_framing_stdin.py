"""Bad frames on the editor's stdin: what the LSP base protocol allows is read, what it does not is
refused and logged, frame by frame, and the sidecar goes on with the next frame. A stream that
cannot be put back in step ends the sidecar with status 76, logged, so the editor restarts it."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from tests.support.raw_peer import TIMEOUT, frame, raw_sidecar, stop

STATUS = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "workspace/executeCommand",
    "params": {"command": "clineBridge.status", "arguments": []},
}
EXIT_BROKEN_INPUT = 76
"""The documented exit status for input that cannot be read any more (sysexits' EX_PROTOCOL)."""
BODY = b'{"jsonrpc":"2.0","id":7,"method":"workspace/executeCommand",' + (
    b'"params":{"command":"clineBridge.status","arguments":[]}}'
)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"content-length: %d\r\n\r\n", id="lowercase-name"),
        pytest.param(b"CONTENT-LENGTH: %d\r\n\r\n", id="uppercase-name"),
        pytest.param(b"Content-Length:  %d  \r\n\r\n", id="spaces-around-value"),
        pytest.param(b"Content-Length:%d\r\n\r\n", id="no-space"),
        pytest.param(
            b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n",
            id="content-type-first",
        ),
        pytest.param(b"Content-Length: %d\r\nX-Trace: 1\r\n\r\n", id="other-header-ignored"),
    ],
)
async def test_what_the_base_protocol_allows_is_read(header: bytes) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send_raw(header % len(BODY) + BODY)
        answer = await sidecar.response_to(7)

    assert answer["result"]["name"] == "cline-bridge"


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        pytest.param(b"Content-Length: abc\r\n\r\n{}", "Content-Length is not a number", id="nan"),
        pytest.param(b"Content-Length: -2\r\n\r\n{}", "Content-Length is not a number", id="neg"),
        pytest.param(b"Content-Length: 0x2\r\n\r\n{}", "Content-Length is not a number", id="hex"),
        pytest.param(b"Content-Length: 2\n\n{}", "ends with LF alone", id="lf-only"),
        pytest.param(b"Content-Type: x\r\n\r\n{}", "no Content-Length", id="no-length"),
        pytest.param(b"Content-Length 2\r\n\r\n{}", "malformed header line", id="no-colon"),
        pytest.param(b"x" * 9000, "header too long", id="header-too-long"),
        pytest.param(b"\x00\xff garbage \r\n\r\n", "malformed header line", id="binary"),
    ],
)
async def test_a_broken_frame_is_logged_and_the_next_one_read(broken: bytes, reason: str) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send_raw(broken + frame(STATUS))
        answer = await sidecar.response_to(7)
        log = await stop(sidecar)

    assert answer["result"]["name"] == "cline-bridge"
    assert "stdin: frame refused" in log
    assert reason in log


async def test_a_frame_cut_in_pieces_anywhere_is_read_whole() -> None:
    stream = frame(STATUS) * 3
    cuts = sorted(random.Random(1).sample(range(1, len(stream)), 40))
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            await sidecar.send_raw(stream[start:end])
            await asyncio.sleep(0.001)  # each piece its own read
        answers = [await sidecar.response_to(7) for _ in range(3)]

    assert [answer["result"]["name"] for answer in answers] == ["cline-bridge"] * 3


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        pytest.param(b"Content-Length: 2\n\n{}" * 20, "frames refused in a row", id="lf-client"),
        pytest.param(bytes(range(1, 256)) * 5000, "no frame header in", id="noise"),
        pytest.param(
            b"Content-Length: 99999999999999\r\n\r\n{}", "a broken header, not a message", id="huge"
        ),
    ],
)
async def test_a_stream_that_cannot_be_put_back_in_step_ends_the_sidecar_clearly(
    stream: bytes, reason: str
) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        with contextlib.suppress(ConnectionError):  # it may exit before it has read it all
            await sidecar.send_raw(stream)
        returncode = await asyncio.wait_for(sidecar.process.wait(), TIMEOUT)
        log = await sidecar.read_log()

    assert returncode == EXIT_BROKEN_INPUT
    assert reason in log
    assert f"exiting with status {EXIT_BROKEN_INPUT}" in log


async def test_a_body_that_is_not_json_is_answered_with_a_parse_error() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send_bytes(b'{"jsonrpc": "2.0", "id": 3, "method": ')
        error = await sidecar.response_to(None)  # type: ignore[arg-type]  # JSON-RPC: id null
        status = await sidecar.execute("clineBridge.status")

    assert error["error"] == {"code": -32700, "message": "Parse error: the body is not JSON"}
    assert status["result"]["name"] == "cline-bridge"
