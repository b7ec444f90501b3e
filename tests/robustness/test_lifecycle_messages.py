"""The LSP lifecycle and the JSON-RPC envelope, as a careless or hostile editor breaks them: every
request gets the answer the specifications give it (never a traceback in ``error.data``, never
silence), notifications are dropped where LSP says so, and the sidecar keeps serving."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.robustness.canary import CANARY_KEY
from tests.support.environment import without_cline_settings
from tests.support.raw_peer import TIMEOUT, RawSidecar, raw_sidecar

SERVER_NOT_INITIALIZED, INVALID_REQUEST, INVALID_PARAMS = -32002, -32600, -32602
STATUS = {"command": "clineBridge.status", "arguments": []}


def request(number: int, method: str, params: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": number, "method": method, "params": params}


async def answer(sidecar: RawSidecar, message: dict[str, Any]) -> dict[str, Any]:
    await sidecar.send(message)
    return await sidecar.response_to(message["id"])


def assert_no_traceback(response: dict[str, Any]) -> None:
    error = response.get("error") or {}
    assert "data" not in error or "traceback" not in repr(error["data"])
    assert "Traceback" not in error.get("message", "")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("workspace/executeCommand", STATUS),
        ("shutdown", None),
        (
            "textDocument/codeAction",
            {
                "textDocument": {"uri": "file:///x.py"},
                "range": {
                    "start": {"line": 0, "character": 0},
                    "end": {"line": 0, "character": 0},
                },
                "context": {"diagnostics": []},
            },
        ),
        ("clineBridge/noSuchMethod", {}),
    ],
)
async def test_a_request_before_initialize_is_answered_server_not_initialized(
    method: str, params: Any
) -> None:
    async with raw_sidecar() as sidecar:
        refused = await answer(sidecar, request(1, method, params))
        initialized = await sidecar.initialize()
        status = await sidecar.execute("clineBridge.status")

    assert refused["error"]["code"] == SERVER_NOT_INITIALIZED
    assert "before initialize" in refused["error"]["message"]
    assert_no_traceback(refused)
    assert "result" in initialized
    assert status["result"]["name"] == "cline-bridge"


async def test_notifications_before_initialize_are_dropped() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        await sidecar.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}})
        response = await sidecar.initialize()

    assert "result" in response


async def test_exit_before_initialize_ends_the_process_with_status_1() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})

        assert await asyncio.wait_for(sidecar.process.wait(), TIMEOUT) == 1


@pytest.mark.parametrize(
    "bad_id",
    [{"a": 1}, [1], True, 1.5, None],
    ids=["object", "array", "boolean", "fraction", "null"],
)
async def test_a_request_with_an_invalid_id_is_answered_invalid_request_with_id_null(
    bad_id: Any,
) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send({**request(0, "workspace/executeCommand", STATUS), "id": bad_id})
        refused = await sidecar.response_to(None)  # type: ignore[arg-type]  # JSON-RPC: id null
        status = await sidecar.execute("clineBridge.status")

    assert refused["error"]["code"] == INVALID_REQUEST
    assert refused["id"] is None
    assert_no_traceback(refused)
    assert status["result"]["name"] == "cline-bridge"


@pytest.mark.parametrize(
    ("message", "code", "reply_to"),
    [
        pytest.param([request(5, "shutdown")], INVALID_REQUEST, None, id="batch"),
        pytest.param("just a string", INVALID_REQUEST, None, id="string"),
        pytest.param({**request(5, "shutdown"), "jsonrpc": "1.0"}, INVALID_REQUEST, 5, id="v1"),
        pytest.param({"id": 5, "method": "shutdown"}, INVALID_REQUEST, 5, id="no-jsonrpc"),
        pytest.param({"jsonrpc": "2.0", "id": 5}, INVALID_REQUEST, 5, id="no-method"),
        pytest.param({"jsonrpc": "2.0", "id": 5, "method": 7}, INVALID_REQUEST, 5, id="method-7"),
        pytest.param(
            request(5, "workspace/executeCommand", 5), INVALID_PARAMS, 5, id="params-scalar"
        ),
        pytest.param(
            request(5, "workspace/executeCommand", {"command": 3}),
            INVALID_PARAMS,
            5,
            id="params-wrong-shape",
        ),
    ],
)
async def test_a_malformed_message_is_answered_as_json_rpc_says(
    message: Any, code: int, reply_to: int | None
) -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send(message)
        refused = await sidecar.response_to(reply_to)  # type: ignore[arg-type]
        status = await sidecar.execute("clineBridge.status")

    assert refused["error"]["code"] == code
    assert_no_traceback(refused)
    assert status["result"]["name"] == "cline-bridge"


async def test_a_second_initialize_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = without_cline_settings(XDG_RUNTIME_DIR=str(runtime), CLINE_API_KEY=CANARY_KEY)
    async with raw_sidecar(env=env) as sidecar:
        await sidecar.initialize({"clineApi": True})
        first = (await sidecar.execute("clineBridge.status"))["result"]

        again = await answer(
            sidecar,
            request(50, "initialize", {"capabilities": {}, "initializationOptions": {}}),
        )
        then = (await sidecar.execute("clineBridge.status"))["result"]
        sockets = sorted(path.name for path in (runtime / "cline-bridge").glob("*.sock"))

    assert again["error"]["code"] == INVALID_REQUEST
    assert "may only be sent once" in again["error"]["message"]
    assert then["host"] == first["host"] == "editor"
    assert then["control"] == first["control"]
    assert sockets == [Path(first["control"]["endpoint"]).name]


async def test_a_request_after_shutdown_is_refused_and_exit_still_ends_with_0() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()
        assert (await sidecar.request("shutdown"))["result"] is None

        late = await answer(sidecar, request(60, "workspace/executeCommand", STATUS))
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
        returncode = await asyncio.wait_for(sidecar.process.wait(), TIMEOUT)

    assert late["error"]["code"] == INVALID_REQUEST
    assert "after shutdown" in late["error"]["message"]
    assert returncode == 0


async def test_shutdown_and_exit_sent_together_end_with_0() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send(request(70, "shutdown"))
        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})
        shutdown = await sidecar.response_to(70)
        returncode = await asyncio.wait_for(sidecar.process.wait(), TIMEOUT)

    assert shutdown["result"] is None
    assert returncode == 0


async def test_exit_without_shutdown_ends_with_1() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()

        await sidecar.send({"jsonrpc": "2.0", "method": "exit"})

        assert await asyncio.wait_for(sidecar.process.wait(), TIMEOUT) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
async def test_a_handler_that_fails_answers_without_a_traceback() -> None:
    # codeAction on a document the editor never opened and that does not exist is handled; any
    # unexpected exception in a handler would be answered -32603 with no traceback either.
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()
        response = await sidecar.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": "file:///no/such/file.py"},
                "range": {
                    "start": {"line": 0, "character": 0},
                    "end": {"line": 0, "character": 0},
                },
                "context": {"diagnostics": []},
            },
        )

    assert_no_traceback(response)
