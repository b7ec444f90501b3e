"""The SSE decoder against whatever bytes a server may send: property-based, with hypothesis.

A slow, obviously correct reference decoder (a regular expression splits the lines) says what
the events are; the real decoder must agree however the bytes are cut into chunks, hold no more
than its line bound, and raise nothing but ``SSEDecodeError``.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cline_bridge.api.constants import MAX_SSE_LINE
from cline_bridge.api.sse import ServerSentEvent, SSEDecodeError, SSEDecoder

SMALL_BOUND = 24
"""A line bound small enough for generated input to cross it often."""

# -- the reference ---------------------------------------------------------------------------


def reference(data: bytes, max_line: int) -> tuple[list[ServerSentEvent], bool]:
    """The events of ``data`` fed whole, and whether a bound was broken (the events are those
    before it)."""
    *lines, unfinished = re.split(rb"\r\n|\r|\n", data)
    events: list[ServerSentEvent] = []
    data_lines: list[bytes] = []
    data_size = 0
    event = id_ = None
    retry = None
    for line in lines:
        if len(line) > max_line:
            return events, True
        if not line:
            if data_lines or event is not None:
                text = b"\n".join(data_lines).decode("utf-8", "replace")
                events.append(ServerSentEvent(text, event, id_, retry))
                data_lines, data_size, event, retry = [], 0, None, None
            continue
        if line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if name == b"data":
            data_size += len(value) + 1
            if data_size > max_line + 1:
                return events, True
            data_lines.append(value)
        elif name == b"event":
            event = value.decode("utf-8", "replace")
        elif name == b"id":
            id_ = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit() and len(value) <= 12:
            retry = int(value)
    return events, len(unfinished) > max_line


def decode_in_pieces(pieces: list[bytes], max_line: int) -> tuple[list[ServerSentEvent], bool]:
    """The events the decoder hands out for ``pieces`` fed one by one, and whether it raised."""
    decoder = SSEDecoder(max_line=max_line)
    events: list[ServerSentEvent] = []
    try:
        for piece in pieces:
            events.extend(decoder.feed(piece))
            assert decoder.buffered <= max_line
    except SSEDecodeError:
        with pytest.raises(SSEDecodeError):
            decoder.feed(b"\n\n")  # a broken stream stays broken
        return events, True
    return events + decoder.flush(), False


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


# -- strategies ------------------------------------------------------------------------------

ENDINGS = st.sampled_from([b"\n", b"\r\n", b"\r"])
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
).map(lambda text: text.encode())
FIELD_LINES = st.one_of(
    TEXT.map(lambda text: b"data: " + text),
    TEXT.map(lambda text: b"data:" + text),
    st.just(b"data"),
    TEXT.map(lambda text: b"event: " + text),
    st.integers(0, 10**15).map(lambda n: b"id: %d" % n),
    st.integers(0, 10**9).map(lambda n: b"retry: %d" % n),
    TEXT.map(lambda text: b": " + text),  # a comment, a keep-alive
    TEXT.map(lambda text: b"x-unknown: " + text),
    st.just(b""),  # a blank line: the end of an event
)
WELL_FORMED = st.lists(st.tuples(FIELD_LINES, ENDINGS), max_size=30).map(
    lambda lines: b"".join(line + ending for line, ending in lines)
)
# Arbitrary bytes, and arbitrary sequences of the tokens that matter to a decoder.
TOKENS = st.sampled_from(
    [b"data", b"event", b"id", b"retry", b":", b": ", b" ", b"\r", b"\n", b"\r\n", b"x", b"7"]
)
HOSTILE_TOKENS = st.one_of(
    TOKENS, st.sampled_from([b"\xff", b"\xc3", b"\xa9", b"[DONE]", b"x" * SMALL_BOUND])
)
HOSTILE = st.one_of(st.binary(max_size=300), st.lists(HOSTILE_TOKENS, max_size=60).map(b"".join))
CUTS = st.lists(st.integers(min_value=0, max_value=400), max_size=40)


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED, CUTS)
def test_a_well_formed_stream_decodes_as_the_reference_says_however_it_is_cut(
    data: bytes, cuts: list[int]
) -> None:
    expected, broken = reference(data, MAX_SSE_LINE)
    assert not broken

    assert decode_in_pieces([data], MAX_SSE_LINE) == (expected, False)
    assert decode_in_pieces(cut(data, cuts), MAX_SSE_LINE) == (expected, False)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE, CUTS)
@example(b"data: x\r", [8])  # a CR at the end of a chunk, its LF never coming
@example(b"data: x\r\n\r\n", [8])  # a CRLF cut in two
@example(b"data: x\r\r\n", [8, 9])
@example(b"retry: " + b"9" * 5000 + b"\n\n", [])  # int() of 5000 digits would raise
def test_any_bytes_cut_anyhow_give_the_reference_events_or_the_decoders_own_error(
    data: bytes, cuts: list[int]
) -> None:
    expected, broken = reference(data, SMALL_BOUND)

    events, raised = decode_in_pieces(cut(data, cuts), SMALL_BOUND)

    assert raised == broken
    if raised:
        # Fed whole, the events of the failing chunk are lost with it: a prefix, in order.
        assert events == expected[: len(events)]
    else:
        assert events == expected


@settings(max_examples=200)
@given(HOSTILE, st.integers(min_value=1, max_value=64))
def test_held_bytes_never_exceed_the_bound(data: bytes, chunk_size: int) -> None:
    decoder = SSEDecoder(max_line=SMALL_BOUND)
    for start in range(0, len(data), chunk_size):
        try:
            decoder.feed(data[start : start + chunk_size])
        except SSEDecodeError:
            return
        assert decoder.buffered <= SMALL_BOUND


@pytest.mark.parametrize("chunk_size", [1, 7, 64 * 1024])
def test_a_line_over_the_bound_fails_as_soon_as_the_bound_is_passed(chunk_size: int) -> None:
    bound = 256 * 1024
    line = b"data: " + b"x" * (4 * bound)
    decoder = SSEDecoder(max_line=bound)
    fed = 0
    failure = None
    while fed < len(line) and failure is None:
        fed += chunk_size
        try:
            decoder.feed(line[fed - chunk_size : fed])
        except SSEDecodeError as error:
            failure = error

    assert str(failure) == "a stream line is longer than 262144 bytes"
    # Reading stopped within one chunk of the bound: a 32 MB line costs a bounded amount.
    assert bound < fed <= bound + chunk_size


def test_a_long_line_within_the_bound_fed_in_small_pieces_decodes_whole() -> None:
    payload = b"y" * (512 * 1024)
    stream = b"data: " + payload + b"\n\n"
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(stream), 1000):
        events += decoder.feed(stream[start : start + 1000])

    assert events == [ServerSentEvent(data=payload.decode())]


def test_an_event_whose_data_lines_add_up_past_the_bound_fails() -> None:
    decoder = SSEDecoder(max_line=100)
    decoder.feed(b"data: " + b"a" * 60 + b"\n")

    with pytest.raises(SSEDecodeError, match="more than 100 bytes of data"):
        decoder.feed(b"data: " + b"b" * 60 + b"\n")


def test_keep_alive_comments_alone_give_no_event() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b": ping\n\n" * 1000 + b":\r\n\r\n") == []
