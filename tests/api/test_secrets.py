"""The API key is a secret: it goes in the Authorization header and nowhere else."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from cline_bridge.api.errors import ClineAPIError
from tests.fakes.cline_api import (
    ERROR_REPLIES,
    FakeClineAPI,
    content_chunk,
    error_choice_chunk,
    json_reply,
    role_chunk,
    sse,
    text_chunks,
)
from tests.support.api_client import HELLO, MODEL, bounded, make_client, stream

KEY = "sk-test-LEAK-CHECK-1234"


def exposed(error: BaseException) -> str:
    """Everything an error shows: str, repr, attributes and the formatted traceback."""
    return "\n".join(
        [
            str(error),
            repr(error),
            repr(vars(error)),
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        ]
    )


async def test_the_key_is_in_no_log_record_error_or_repr(
    fake_api: FakeClineAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_api.script(
        # A retried failure, then success (logs the retry).
        ERROR_REPLIES["503 plain"](),
        sse(text_chunks("fine")),
        # Failures that are not retried.
        ERROR_REPLIES["401 documented"](),
        ERROR_REPLIES["402 insufficient credits"](),
        sse([role_chunk(), content_chunk("x"), error_choice_chunk()]),
        # A plain call and a model list that succeed.
        json_reply(
            {
                "choices": [
                    {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                ]
            }
        ),
        json_reply({"data": [{"id": "a/b"}]}),
    )
    errors: list[BaseException] = []
    async with make_client(fake_api, api_key=KEY) as client:
        assert KEY not in repr(client)
        assert KEY not in str(client)
        ok = await stream(client)
        assert ok.text == "fine"
        for _ in range(2):
            with pytest.raises(ClineAPIError) as caught:
                await bounded(client.chat(model=MODEL, messages=HELLO))
            errors.append(caught.value)
        failed = await stream(client)
        assert failed.error is not None
        errors.append(failed.error)
        assert (await bounded(client.chat(model=MODEL, messages=HELLO))).text == "ok"
        assert [m.id for m in await bounded(client.list_models())] == ["a/b"]
        assert ok.result is not None
        assert KEY not in repr(ok.result)

    # Unreachable server, logged with its traceback the way a caller would.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with make_client(f"http://127.0.0.1:{port}/api/v1", api_key=KEY, max_retries=1) as c:
        with pytest.raises(ClineAPIError) as caught:
            await bounded(c.chat(model=MODEL, messages=HELLO))
        errors.append(caught.value)
    for error in errors:
        logging.getLogger("tests.api").exception("call failed: %r", error, exc_info=error)

    assert all(request.headers["authorization"] == f"Bearer {KEY}" for request in fake_api.requests)
    assert len(errors) == 4
    for error in errors:
        assert KEY not in exposed(error)
    assert caplog.records, "nothing was logged: the capture is not working"
    assert any(r.name.startswith("cline_bridge") for r in caplog.records), "no retry was logged"
    for record in caplog.records:
        assert KEY not in record.getMessage(), record.name
    assert KEY not in caplog.text
    assert "LEAK-CHECK" not in caplog.text
