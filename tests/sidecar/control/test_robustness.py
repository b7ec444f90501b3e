"""The control endpoint under hostile and heavy use: the sidecar keeps serving everyone."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.control_sidecar import Sidecar
from tests.support.editor_double import STARTED
from tests.support.raw_control import RawControl
from tests.support.raw_peer import frame, frame_bytes
from tests.support.sidecar import execute

SOCKET_TIMEOUT = 2.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
methods = st.sampled_from(
    ["initialize", "workspace/executeCommand", "shutdown", "exit", "$/cancelRequest", "x/y", ""]
)
commands = st.sampled_from(
    [
        "clineBridge.startNewTask",
        "clineBridge.sendMessage",
        "clineBridge.pressPrimaryButton",
        "clineBridge.status",
        "nope",
    ]
)
json_rpc = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0"]), "method": methods},
    optional={
        "id": st.integers() | st.text(max_size=5) | st.none(),
        "params": json_values
        | st.fixed_dictionaries(
            {"command": commands, "arguments": st.lists(json_values, max_size=3)}
        ),
    },
)
garbage = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: frame_bytes(json.dumps(value).encode())),
    st.binary(max_size=40).map(lambda body: b"Content-Length: %d\r\n\r\n%s" % (len(body), body)),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: b"Content-Length: %d\r\n\r\n" % n),
    st.text(max_size=60).map(lambda header: header.encode() + b"\r\n\r\n{}"),
)


def _connect(endpoint: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(SOCKET_TIMEOUT)
    sock.connect(endpoint.removeprefix("unix:"))
    return sock


def _drain(sock: socket.socket) -> None:
    """Read what the sidecar answers until it closes or goes quiet."""
    try:
        while sock.recv(65536):
            pass
    except (TimeoutError, OSError):
        pass


async def test_fuzzed_frames_and_messages_leave_the_sidecar_serving(sidecar: Sidecar) -> None:
    endpoint, token = sidecar.record["endpoint"], sidecar.record["token"]
    initialize = frame(
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"initializationOptions": {"token": token}},
        }
    )
    cases = {"unauthenticated": 0, "authenticated": 0}

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=garbage)
    def unauthenticated(data: bytes) -> None:
        with _connect(endpoint) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            _drain(sock)
        cases["unauthenticated"] += 1

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(messages=st.lists(json_rpc, min_size=1, max_size=3), tail=garbage)
    def authenticated(messages: list[dict[str, Any]], tail: bytes) -> None:
        with _connect(endpoint) as sock:
            sock.sendall(initialize + b"".join(frame(message) for message in messages) + tail)
            sock.shutdown(socket.SHUT_WR)
            _drain(sock)
        cases["authenticated"] += 1

    await asyncio.to_thread(unauthenticated)
    await asyncio.to_thread(authenticated)

    assert cases == {"unauthenticated": 250, "authenticated": 250}
    # The editor's own connection and a well-behaved script still work.
    assert (await execute(sidecar.editor, "clineBridge.status"))["host"] == "editor"
    control = await RawControl.open(endpoint)
    try:
        assert "result" in await control.initialize(token)
        reply = await control.execute("clineBridge.startNewTask", {"task": "after the storm"})
    finally:
        await control.close()
    assert reply["result"] == STARTED
    assert sidecar.editor.cline.calls[-1] == (  # type: ignore[attr-defined]
        "clineBridge/startNewTask",
        {"task": "after the storm"},
    )


CLIENTS, COMMANDS_EACH = 20, 200


async def test_concurrent_clients_each_get_every_command_through_once_in_order(
    sidecar: Sidecar,
) -> None:
    async def client(number: int) -> list[Any]:
        control = await RawControl.open(sidecar.record["endpoint"])
        try:
            await control.initialize(sidecar.record["token"])
            # Pipelined: all commands are on the wire before the first answer is read.
            for index in range(COMMANDS_EACH):
                message = {
                    "jsonrpc": "2.0",
                    "id": index + 1,
                    "method": "workspace/executeCommand",
                    "params": {
                        "command": "clineBridge.startNewTask",
                        "arguments": [f"c{number}-{index}"],
                    },
                }
                control.writer.write(frame(message))
            await control.writer.drain()
            return [await control.response_to(index + 1) for index in range(COMMANDS_EACH)]
        finally:
            await control.close()

    replies = await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(CLIENTS))), 120)

    assert all(reply.get("result") == STARTED for batch in replies for reply in batch)
    received: dict[str, list[int]] = defaultdict(list)
    for method, params in sidecar.editor.cline.calls:  # type: ignore[attr-defined]
        assert method == "clineBridge/startNewTask"
        number, index = params["task"].split("-")
        received[number].append(int(index))
    assert len(received) == CLIENTS
    for indexes in received.values():
        assert indexes == list(range(COMMANDS_EACH)), "each client's commands arrive once, in order"
    total = sum(len(indexes) for indexes in received.values())
    print(f"load: {CLIENTS} x {COMMANDS_EACH} commands: {total} reached the host once, in order")
    assert total == CLIENTS * COMMANDS_EACH
