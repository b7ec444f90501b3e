from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from cline_bridge.api.sse import ServerSentEvent, SSEDecoder

STREAM = (
    b": keep-alive\r\n\r\n"
    b'data: {"a": 1}\r\n\r\n'
    b"event: ping\ndata: first line\ndata: second line\nid: 7\n\n"
    b"data:no-space\r\rretry: 1500\ndata: \xc3\xa9t\xc3\xa9\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent(data='{"a": 1}'),
    ServerSentEvent(data="first line\nsecond line", event="ping", id="7"),
    ServerSentEvent(data="no-space", id="7"),
    ServerSentEvent(data="été", id="7", retry=1500),
    ServerSentEvent(data="[DONE]", id="7"),
]


def decode(pieces: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.flush()


def test_decodes_every_field_and_line_ending() -> None:
    assert decode([STREAM]) == EXPECTED


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_any_split_of_the_bytes_gives_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[start:end] for start, end in itertools.pairwise(bounds)]

    assert decode(pieces) == EXPECTED


def test_byte_by_byte() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_an_event_cut_off_before_its_blank_line_is_not_delivered() -> None:
    assert decode([b"data: complete\n\ndata: cut off"]) == [ServerSentEvent(data="complete")]
