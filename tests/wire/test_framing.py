"""The LSP framing decoder: whole bodies however the bytes are cut, strict headers, capped sizes."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cline_bridge.wire import framing
from cline_bridge.wire.framing import MAX_HEADER_BYTES, FrameDecoder, FrameError

MESSAGES = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
    {"jsonrpc": "2.0", "method": "clineBridge/taskEvent", "params": {"text": "été ✓ \udc80"}},
    {"jsonrpc": "2.0", "id": 1, "result": None},
]
STREAM = b"".join(framing.encode(message) for message in MESSAGES)


def bodies(decoder: FrameDecoder, pieces: list[bytes]) -> list[bytes]:
    found = []
    for piece in pieces:
        decoder.feed(piece)
        while (body := decoder.next_body()) is not None:
            found.append(body)
    decoder.finish()
    return found


def test_encode_frames_compact_json_that_is_valid_utf8_for_any_str() -> None:
    frame = framing.encode({"a": "é", "lone": "\udc80"})

    header, body = frame.split(b"\r\n\r\n")
    assert header == b"Content-Length: %d" % len(body)
    assert body == b'{"a":"\\u00e9","lone":"\\udc80"}'
    body.decode("utf-8")  # strict: no surrogate reached the bytes


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_split_of_the_bytes_gives_the_same_bodies(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[start:end] for start, end in itertools.pairwise(bounds)]

    found = bodies(FrameDecoder(max_body=1024), pieces)

    assert [json.loads(body) for body in found] == MESSAGES


@pytest.mark.parametrize(
    "header",
    [
        b"content-length: 2",
        b"Content-Length:2",
        b"CONTENT-LENGTH: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8",
        b"Content-Type: x\r\nContent-Length:  2 ",
    ],
)
def test_header_names_in_any_case_and_content_type_are_accepted(header: bytes) -> None:
    assert bodies(FrameDecoder(max_body=10), [header + b"\r\n\r\n{}"]) == [b"{}"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Content-Length: 2\r\nX-Other: 1\r\n\r\n{}", "unknown header"),
        (b"Content-Length 2\r\n\r\n{}", "malformed header line"),
        (b"Content-Length: -2\r\n\r\n{}", "Content-Length is not a number"),
        (b"Content-Length: 0x2\r\n\r\n{}", "Content-Length is not a number"),
        (b"Content-Type: x\r\n\r\n{}", "no Content-Length"),
        (b"Content-Length: 11\r\n\r\n", "Content-Length 11 is over the cap of 10"),
        (b"x" * (MAX_HEADER_BYTES + 1), "header too long"),
        (b"Content-Length: 2\n\n{}" + b" " * MAX_HEADER_BYTES, "header too long"),
    ],
)
def test_a_broken_frame_is_refused_with_its_reason(data: bytes, reason: str) -> None:
    decoder = FrameDecoder(max_body=10)
    decoder.feed(data)

    with pytest.raises(FrameError) as raised:
        decoder.next_body()
    assert str(raised.value) == reason


def test_the_cap_applies_to_frames_not_yet_started() -> None:
    decoder = FrameDecoder(max_body=2)
    decoder.feed(b"Content-Length: 2\r\n\r\n{}Content-Length: 4\r\n\r\n[{}]")

    assert decoder.next_body() == b"{}"
    decoder.max_body = 4  # as the control endpoint raises it after initialize
    assert decoder.next_body() == b"[{}]"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Content-Len", "connection closed inside a header"),
        (b"Content-Length: 5\r\n\r\n{}", "connection closed inside a body"),
    ],
)
def test_input_that_ends_inside_a_frame_is_an_error(data: bytes, reason: str) -> None:
    decoder = FrameDecoder(max_body=10)
    decoder.feed(data)
    assert decoder.next_body() is None

    with pytest.raises(FrameError, match=reason):
        decoder.finish()


async def test_read_body_reads_a_stream_to_its_clean_end() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(STREAM)
    reader.feed_eof()
    decoder = FrameDecoder(max_body=1024)

    found = [body async for body in _all(reader, decoder)]

    assert [json.loads(body) for body in found] == MESSAGES


async def _all(reader: asyncio.StreamReader, decoder: FrameDecoder) -> AsyncIterator[bytes]:
    while (body := await framing.read_body(reader, decoder)) is not None:
        yield body
