"""The fake Cline API itself, checked with plain httpx: what the client tests stand on."""

from __future__ import annotations

import contextlib
import threading

import httpx
import pytest

from tests.fakes.cline_api import (
    ERROR_REPLIES,
    FakeClineAPI,
    hang,
    json_reply,
    sse,
    text_chunks,
    text_reply,
)
from tests.support.api_client import bounded, wait_event


async def test_records_requests_and_replies_in_order(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply({"a": 1}), text_reply("nope", 418))
    async with httpx.AsyncClient(base_url=fake_api.url) as http:
        first = await bounded(http.post("/chat/completions", json={"x": 1}, headers={"X-A": "b"}))
        second = await bounded(http.get("/models"))
    assert (first.status_code, first.json()) == (200, {"a": 1})
    assert (second.status_code, second.text) == (418, "nope")
    assert [(r.method, r.path) for r in fake_api.requests] == [
        ("POST", "/api/v1/chat/completions"),
        ("GET", "/api/v1/models"),
    ]
    assert fake_api.requests[0].json == {"x": 1}
    assert fake_api.requests[0].headers["x-a"] == "b"
    assert fake_api.requests[1].json is None
    assert fake_api.pending == 0


async def test_an_unscripted_request_gets_a_500_that_says_so(fake_api: FakeClineAPI) -> None:
    async with httpx.AsyncClient() as http:
        response = await bounded(http.post(fake_api.url + "/chat/completions", json={}))
    assert response.status_code == 500
    assert response.text == ("fake Cline API: no reply scripted for POST /api/v1/chat/completions")


async def test_streams_are_chunked_and_end_with_done(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(['data: {"a":1}'], crlf=True, comments=True, split=1))
    async with httpx.AsyncClient() as http:
        response = await bounded(http.post(fake_api.url + "/chat/completions"))
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.text == (
        ': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\n: keep-alive\r\n\r\ndata: [DONE]\r\n\r\n'
    )


async def test_close_after_leaves_the_chunked_body_incomplete(fake_api: FakeClineAPI) -> None:
    fake_api.script(sse(text_chunks("a", "b"), close_after=2))
    received = bytearray()

    async def read_all() -> None:
        async with (
            httpx.AsyncClient() as http,
            http.stream("POST", fake_api.url + "/chat/completions") as response,
        ):
            async for piece in response.aiter_bytes():
                received.extend(piece)

    with pytest.raises(httpx.RemoteProtocolError):
        await bounded(read_all())
    assert received.count(b"\n\n") == 2
    assert b"[DONE]" not in received
    assert await wait_event(fake_api.requests[0].finished)
    assert fake_api.requests[0].outcome == "closed early"


async def test_a_gate_holds_the_stream(fake_api: FakeClineAPI) -> None:
    gate = threading.Event()
    fake_api.script(sse(["data: 1", "data: 2"], gate=gate))
    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", fake_api.url + "/chat/completions") as response,
    ):
        pieces = response.aiter_bytes()
        assert await bounded(anext(pieces)) == b"data: 1\n\n"
        assert not fake_api.requests[0].finished.is_set()
        gate.set()
        rest = b"".join([piece async for piece in pieces])
    assert rest == b"data: 2\n\ndata: [DONE]\n\n"


async def test_a_hung_request_notices_the_client_leaving(fake_api: FakeClineAPI) -> None:
    fake_api.script(hang())
    async with httpx.AsyncClient(timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(fake_api.url + "/chat/completions")
    assert await wait_event(fake_api.requests[0].finished)
    assert fake_api.requests[0].outcome == "client disconnected"


def test_close_releases_hung_requests_and_stops_every_thread() -> None:
    fake = FakeClineAPI()
    fake.script(hang())
    done = threading.Event()

    def call() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(fake.url + "/chat/completions", timeout=10)
        done.set()

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    for _ in range(200):
        if fake.requests:
            break
        threading.Event().wait(0.01)
    fake.close()
    assert done.wait(5)
    caller.join(5)
    assert fake.requests[0].outcome == "released"
    assert not any(t.name.startswith(f"fake-cline-api-{fake.port}") for t in threading.enumerate())


@pytest.mark.parametrize("name", sorted(ERROR_REPLIES))
async def test_canned_errors_carry_a_request_id(fake_api: FakeClineAPI, name: str) -> None:
    reply = ERROR_REPLIES[name]()
    fake_api.script(reply)
    async with httpx.AsyncClient() as http:
        response = await bounded(http.post(fake_api.url + "/chat/completions"))
    assert response.status_code == reply.status >= 400
    assert response.headers["x-request-id"].startswith("req-")
