"""Property-based fuzzing of both framers: the editor's stdin (tolerant, resynchronising) and the
control endpoint's (strict: the first broken frame ends the connection).

For any bytes, cut anyhow, the stdin framer delivers bodies or gives the stream up with
``BrokenInput``, nothing else, and holds at most a bounded amount; after junk that cannot claim a
length, it is back in step by the second good frame. The control framer delivers every good frame
sent before junk, then raises ``FrameError``, nothing else. A real sidecar fed junk between its
requests keeps answering them. (The control endpoint's own sockets are fuzzed end to end in
``tests/sidecar/control/test_robustness.py``.)
"""

from __future__ import annotations

import asyncio
import itertools
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cline_bridge.sidecar.incoming import BrokenInput, StdinFrames
from cline_bridge.wire.framing import FrameDecoder, FrameError, encode
from tests.support.raw_peer import frame, raw_sidecar

CONTROL_MAX_BODY = 1024
LIMIT = st.integers(min_value=0, max_value=1 << 16)

messages = st.lists(
    st.fixed_dictionaries(
        {"jsonrpc": st.just("2.0"), "id": st.integers(0, 10**6), "method": st.text(max_size=12)}
    ),
    min_size=1,
    max_size=5,
)
junk = st.one_of(
    st.binary(max_size=400),
    st.sampled_from(
        [
            b"Content-Length: -1\r\n\r\n",
            b"Content-Length: abc\r\n\r\n",
            b"content-length: 2\n\n{}",
            b"Content-Length: 99999999\r\n\r\n",
            b"X: y\r\n\r\n",
            b"\r\n\r\n",
            b"Content-Length: 3\r\nContent-Length 4\r\n\r\n{}",
        ]
    ),
)
colonless_junk = st.binary(max_size=400).map(lambda data: data.replace(b":", b""))
"""Junk that cannot form a header line, so cannot claim a body length: a resynchronising reader
must find the next good frame after it."""


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def stdin_bodies(pieces: list[bytes]) -> tuple[list[bytes], BrokenInput | None]:
    delivered: list[bytes] = []
    frames = StdinFrames(delivered.append)
    try:
        for piece in pieces:
            frames.feed(piece)
    except BrokenInput as error:
        return delivered, error
    frames.finish()
    return delivered, None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(junk | messages.map(lambda ms: b"".join(map(encode, ms))), max_size=6), st.data())
def test_stdin_any_bytes_cut_anyhow_give_bodies_or_a_clear_end(
    parts: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(parts)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))

    delivered, broken = stdin_bodies(cut(stream, cuts))

    # Each body was taken whole from the stream, in order: nothing is made up.
    position = 0
    for body in delivered:
        found = stream.find(body, position)
        assert found >= 0
        position = found + len(body)
    if broken is not None:
        assert str(broken)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(colonless_junk, messages, st.data())
@example(b"", [{"jsonrpc": "2.0", "id": 1, "method": "m"}], None)
@example(b"\r\n\r\n", [{"jsonrpc": "2.0", "id": 1, "method": "m"}], None)
@example(b"no\nline feeds\n", [{"jsonrpc": "2.0", "id": 1, "method": "m"}], None)
def test_stdin_after_junk_every_good_frame_but_the_first_is_read(
    garbage: bytes, sent: list[dict[str, object]], data: st.DataObject | None
) -> None:
    stream = garbage + b"".join(encode(message) for message in sent)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12)) if data else []

    delivered, broken = stdin_bodies(cut(stream, cuts))

    assert broken is None
    received = [json.loads(body) for body in delivered]
    assert received in (sent, sent[1:]), "the junk may take the first frame's header with it"
    if not garbage:
        assert received == sent


@settings(max_examples=300)
@given(messages, junk, st.lists(LIMIT, max_size=12))
def test_control_delivers_every_frame_before_junk_then_refuses_it(
    sent: list[dict[str, object]], garbage: bytes, cuts: list[int]
) -> None:
    good = b"".join(encode(message) for message in sent)
    decoder = FrameDecoder(CONTROL_MAX_BODY)
    delivered: list[bytes] = []
    error: FrameError | None = None
    try:
        for piece in cut(good + garbage, cuts):
            decoder.feed(piece)
            while (body := decoder.next_body()) is not None:
                delivered.append(body)
        decoder.finish()
    except FrameError as refused:
        error = refused

    assert [json.loads(body) for body in delivered[: len(sent)]] == sent
    if error is None:
        # The junk happened to be whole frames, or nothing.
        assert len(delivered) >= len(sent)
    else:
        assert str(error)


async def test_a_sidecar_fed_junk_between_requests_keeps_answering_them() -> None:
    async with raw_sidecar() as sidecar:
        await sidecar.initialize()
        answered = 0

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(colonless_junk)
        def one_round(garbage: bytes) -> None:
            nonlocal answered
            answered += asyncio.run_coroutine_threadsafe(round_trip(garbage), loop).result(30)

        async def round_trip(garbage: bytes) -> int:
            first, second = 2 * answered + 1000, 2 * answered + 1001
            await sidecar.send_raw(garbage + frame(status(first)) + frame(status(second)))
            reply = await sidecar.response_to(second)
            assert reply["result"]["name"] == "cline-bridge"
            return 1

        loop = asyncio.get_running_loop()
        await asyncio.to_thread(one_round)
        final = await sidecar.execute("clineBridge.status")

    assert answered == 60
    assert final["result"]["name"] == "cline-bridge"


def status(number: int) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": number,
        "method": "workspace/executeCommand",
        "params": {"command": "clineBridge.status", "arguments": []},
    }
