"""`cline-bridge chat` and `cline-bridge models` as a user runs them: a subprocess, real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.fakes.cline_api import ERROR_REPLIES, FakeClineAPI, json_reply, sse, text_chunks
from tests.support.environment import without_cline_settings

API_KEY = "sk-test-CLI-LEAK-CHECK-5555"
TIMEOUT = 30


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cline_bridge", *args]


@pytest.fixture
def env(fake_api: FakeClineAPI) -> dict[str, str]:
    return without_cline_settings(CLINE_API_KEY=API_KEY, CLINE_API_BASE_URL=fake_api.url)


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_chat_prints_the_answer(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(sse(text_chunks("Paris", " is the capital.")))

    done = run(cli("chat", "Capital of France?", "-m", "x/y", "-s", "Be brief."), env)

    assert (done.returncode, done.stdout, done.stderr) == (0, "Paris is the capital.\n", "")
    body = fake_api.requests[0].json
    assert body["model"] == "x/y"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_piped_stdin_is_appended_to_the_prompt(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(sse(text_chunks("feat: add x")))

    done = run(cli("chat", "write a commit message"), env, stdin="diff --git a/x b/x\n+x\n")

    assert done.returncode == 0
    assert fake_api.requests[0].json["messages"][-1]["content"] == (
        "write a commit message\n\ndiff --git a/x b/x\n+x"
    )


def test_the_answer_streams_as_it_arrives(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(sse(text_chunks("first ", *["later "] * 10), delay=0.3))
    process = subprocess.Popen(
        cli("chat", "go"), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        started = time.monotonic()
        first = process.stdout.read(6)
        assert first == "first "
        assert process.poll() is None, "the first words must show before the answer is complete"
        assert time.monotonic() - started < TIMEOUT
        rest = process.stdout.read()
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
    assert rest == "later " * 10 + "\n"


def test_json_prints_the_whole_result(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(sse(text_chunks("42")))

    done = run(cli("chat", "answer?", "--json"), env)

    result = json.loads(done.stdout)
    assert result["text"] == "42"
    assert result["finishReason"] == "stop"


def test_an_api_error_is_one_line_and_exit_1(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(ERROR_REPLIES["401 success false"]())

    done = run(cli("chat", "hello"), env)

    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("cline-bridge: Cline API error 401")
    assert API_KEY not in done.stderr


def test_no_key_is_a_clear_error(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    del env["CLINE_API_KEY"]

    done = run(cli("chat", "hello"), env)

    assert done.returncode == 1
    assert "CLINE_API_KEY" in done.stderr
    assert fake_api.requests == []


def test_an_unreachable_api_is_a_clear_error(env: dict[str, str]) -> None:
    done = run(cli("models", "--base-url", "http://127.0.0.1:9/api/v1"), env)

    assert done.returncode == 1
    assert done.stderr.startswith("cline-bridge: Cannot reach the Cline API at http://127.0.0.1:9")


def test_no_prompt_is_a_usage_error(env: dict[str, str]) -> None:
    assert run(cli("chat"), env).returncode == 2
    assert run(cli("chat", "--no-such-flag"), env).returncode == 2


def test_models(fake_api: FakeClineAPI, env: dict[str, str]) -> None:
    fake_api.script(json_reply([{"id": "a/one"}, {"id": "b/two"}]))

    done = run(cli("models"), env)

    assert (done.returncode, done.stdout) == (0, "a/one\nb/two\n")
