"""A messy API key, as a CRLF ``.env`` file or a paste leaves it: surrounding whitespace is taken
off where the key enters, a key no HTTP header can carry is refused with a message that names
where it came from (never the key), and a server that echoes the key never gets it shown: not in
an error, a log line, a ``window/logMessage`` or what the CLI prints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cline_bridge.api.errors import InvalidAPIKeyError
from tests.fakes.cline_api import FakeClineAPI, json_reply, sse, text_chunks
from tests.support.api_client import failure, make_client, stream
from tests.support.cli import run_cli
from tests.support.environment import without_cline_settings
from tests.support.raw_peer import TIMEOUT, RawSidecar, raw_sidecar, stop

KEY = "sk-test-MESSY-KEY-LEAK-CHECK-31337"
NO_API_KEY = -32003
API_ERROR = -32004
ECHOED = "Cline API error 401 (invalid_api_key): Invalid API key: ***; check the Cline API key"
ECHOING_401 = {"error": {"message": f"Invalid API key: {KEY}", "code": "invalid_api_key"}}


@pytest.mark.parametrize("messy", [f"{KEY}\r", f"{KEY}\r\n", f"  {KEY} ", f"\t{KEY}\n"])
async def test_surrounding_whitespace_is_taken_off_before_the_key_is_sent(
    fake_api: FakeClineAPI, messy: str
) -> None:
    fake_api.script(sse(text_chunks("fine")))
    async with make_client(fake_api, api_key=messy) as client:
        assert (await stream(client)).text == "fine"

    assert fake_api.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("bad_key", "what"),
    [
        (f"sk-test\r{KEY}", "a control character (U+000D) at position 8"),
        (f"sk-test\x00{KEY}", "a control character (U+0000) at position 8"),
        (f"sk-test {KEY}", "a space at position 8"),
        (f"sk-tést-{KEY}", "a character that is not ASCII at position 5"),
    ],
)
@pytest.mark.parametrize("kind", ["stream", "plain", "models"])
async def test_a_key_no_header_can_carry_fails_each_call_before_anything_is_sent(
    fake_api: FakeClineAPI, bad_key: str, what: str, kind: str
) -> None:
    async with make_client(fake_api, api_key=bad_key, max_retries=3) as client:
        error = await failure(client, kind)

    assert isinstance(error, InvalidAPIKeyError)
    assert error.message == f"api_key holds {what}; fix the key"
    assert error.retryable is False
    assert fake_api.requests == []


async def test_an_echoed_key_is_blanked_in_the_error_and_its_body(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply(ECHOING_401, 401))
    async with make_client(fake_api, api_key=KEY) as client:
        error = await failure(client, "plain")

    assert error.status == 401
    assert error.message == ECHOED
    assert KEY not in repr(vars(error))
    assert KEY not in str(error)


async def _chat_and_log(
    options: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], RawSidecar, str]:
    async with raw_sidecar(env=env) as sidecar:
        await sidecar.initialize({"clineApi": True, **options})
        answer = await sidecar.execute("clineBridge.chat", {"prompt": "hello"})
        status = await sidecar.execute("clineBridge.status")
        log = await stop(sidecar)
    return answer, status, sidecar, log


@pytest.mark.parametrize("source", ["initializationOptions.apiKey", "CLINE_API_KEY"])
async def test_the_sidecar_refuses_a_key_no_header_can_carry_without_showing_it(
    fake_api: FakeClineAPI, source: str
) -> None:
    bad_key = f"{KEY}\x7f"
    options = {"apiBaseUrl": fake_api.url}
    env = without_cline_settings()
    if source == "CLINE_API_KEY":
        env["CLINE_API_KEY"] = bad_key
    else:
        options["apiKey"] = bad_key

    answer, status, sidecar, log = await _chat_and_log(options, env)

    problem = f"{source} holds a control character (U+007F) at position {len(KEY) + 1}; fix the key"
    assert answer["error"]["code"] == NO_API_KEY
    assert answer["error"]["message"] == problem
    assert problem in log, "said once at start-up too"
    assert "result" in status, "the sidecar keeps serving"
    assert fake_api.requests == []
    shown = json.dumps([answer, status, sidecar.notifications]) + log
    assert KEY not in shown


async def test_the_sidecar_never_shows_a_key_the_server_echoes(fake_api: FakeClineAPI) -> None:
    fake_api.script(json_reply(ECHOING_401, 401))
    options = {"apiKey": f"{KEY}\r\n", "apiBaseUrl": fake_api.url}

    answer, status, sidecar, log = await _chat_and_log(options, without_cline_settings())

    assert answer["error"]["code"] == API_ERROR
    assert answer["error"]["message"] == ECHOED
    assert answer["error"]["data"]["status"] == 401
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert "result" in status
    assert "Invalid API key: ***" in log, "the failure is logged, redacted"
    shown = json.dumps([answer, status, sidecar.notifications]) + log
    assert KEY not in shown


def test_the_cli_takes_a_key_with_a_crlf_ending_and_never_prints_an_echoed_one(
    fake_api: FakeClineAPI,
) -> None:
    fake_api.script(json_reply(ECHOING_401, 401))
    env = without_cline_settings(CLINE_API_KEY=f"{KEY}\r\n", CLINE_API_BASE_URL=fake_api.url)

    done = run_cli(["chat", "hello"], env, TIMEOUT)

    assert done.returncode == 1
    assert done.stderr == f"cline-bridge: {ECHOED}\n"
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in done.stdout + done.stderr


def test_the_cli_refuses_a_key_no_header_can_carry_in_one_line(fake_api: FakeClineAPI) -> None:
    env = without_cline_settings(CLINE_API_KEY=f"{KEY}é", CLINE_API_BASE_URL=fake_api.url)

    done = run_cli(["models"], env, TIMEOUT)

    assert done.returncode == 1
    assert done.stderr == (
        f"cline-bridge: CLINE_API_KEY holds a character that is not ASCII at position "
        f"{len(KEY) + 1}; fix the key\n"
    )
    assert "Traceback" not in done.stderr
    assert fake_api.requests == []


async def test_a_key_pasted_into_an_argument_is_not_echoed_in_the_answer() -> None:
    async with raw_sidecar(env=without_cline_settings(CLINE_API_KEY=KEY)) as sidecar:
        await sidecar.initialize({"clineApi": True})
        answer = await sidecar.execute("clineBridge.pressPrimaryButton", {KEY: True})
        status = await sidecar.execute("clineBridge.status")
        log = await stop(sidecar)

    assert answer["error"]["code"] == -32602
    assert answer["error"]["message"].startswith("clineBridge.pressPrimaryButton")
    assert "'***'" in answer["error"]["message"]
    assert "result" in status
    assert KEY not in json.dumps(sidecar.transcript) + log
