"""clineBridge.chat and clineBridge.listModels over LSP, against the fake Cline API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.fakes.cline_api import ERROR_REPLIES, FakeClineAPI, json_reply, sse, text_chunks
from tests.support.environment import without_cline_settings
from tests.support.sidecar import SERVER_COMMAND, execute, execute_error

# pytest-lsp only knows progress tokens the server created; a client's workDoneToken is valid LSP.
pytestmark = pytest.mark.filterwarnings("ignore:Unknown progress token")

API_KEY = "sk-test-LSP-LEAK-CHECK-9876"
# The sidecar must not pick up a key from the developer's environment.
CLEAN_ENV = without_cline_settings()


def _initialize(options: dict[str, object]) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options
    )


@pytest.fixture
def api_options(fake_api: FakeClineAPI) -> dict[str, object]:
    return {"apiKey": API_KEY, "apiBaseUrl": fake_api.url, "model": "test/model-a"}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=CLEAN_ENV))
async def chat_client(
    lsp_client: LanguageClient, api_options: dict[str, object]
) -> AsyncIterator[None]:
    await lsp_client.initialize_session(_initialize(api_options))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=CLEAN_ENV))
async def keyless_client(lsp_client: LanguageClient, fake_api: FakeClineAPI) -> AsyncIterator[None]:
    await lsp_client.initialize_session(_initialize({"apiBaseUrl": fake_api.url}))
    yield
    await lsp_client.shutdown_session()


async def test_chat_streams_progress_that_adds_up_to_the_answer(
    chat_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    fake_api.script(sse(text_chunks("The capital", " of France", " is Paris."), delay=0.03))

    result = await chat_client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="clineBridge.chat",
            arguments=[{"prompt": "Capital of France?", "system": "Be brief."}],
            work_done_token="chat-1",
        )
    )

    assert result["text"] == "The capital of France is Paris."
    assert result["finishReason"] == "stop"
    assert result["usage"]["promptTokens"] is not None
    reports = chat_client.progress_reports["chat-1"]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    streamed = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert len(streamed) >= 2, "text arriving 30 ms apart must not wait for the end"
    assert "".join(streamed) == result["text"]
    body = fake_api.requests[0].json
    assert body["model"] == "test/model-a"
    assert body["stream"] is True
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]


async def test_chat_without_a_token_just_answers(
    chat_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    fake_api.script(sse(text_chunks("Hi")))

    result = await execute(chat_client, "clineBridge.chat", {"prompt": "hello", "model": "x/y"})

    assert result["text"] == "Hi"
    assert fake_api.requests[0].json["model"] == "x/y"
    assert chat_client.progress_reports == {}


async def test_list_models(chat_client: LanguageClient, fake_api: FakeClineAPI) -> None:
    fake_api.script(
        json_reply({"data": [{"id": "anthropic/claude-sonnet-4-6"}, {"id": "openai/gpt-4o"}]})
    )

    result = await execute(chat_client, "clineBridge.listModels")

    assert [model["id"] for model in result["models"]] == [
        "anthropic/claude-sonnet-4-6",
        "openai/gpt-4o",
    ]
    assert fake_api.requests[0].path == "/api/v1/models"


async def test_no_key_is_32003_and_nothing_is_sent(
    keyless_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    error = await execute_error(keyless_client, "clineBridge.chat", {"prompt": "hello"})

    assert error.code == -32003
    assert "CLINE_API_KEY" in error.message
    assert fake_api.requests == []


async def test_api_errors_are_32004_with_data_and_no_key(
    chat_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    fake_api.script(ERROR_REPLIES["402 insufficient credits"]())

    error = await execute_error(chat_client, "clineBridge.chat", {"prompt": "hello"})

    assert error.code == -32004
    assert error.data == {
        "status": 402,
        "code": "insufficient_credits",
        "requestId": "req-402",
        "retryable": False,
    }
    assert "Not enough credits available" in error.message
    logged = " ".join(message.message for message in chat_client.log_messages)
    assert API_KEY not in error.message + logged


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([{}], "clineBridge.chat: give a prompt or messages"),
        ([{"promt": "typo"}], "clineBridge.chat: unknown key 'promt'"),
        ([{"prompt": 3}], "clineBridge.chat: prompt must be a string, not number"),
        ([{"prompt": "x", "temperature": 7}], "temperature must be a number from 0 to 2"),
        ([{"prompt": "x", "maxTokens": 0}], "maxTokens must be a positive integer"),
        (
            [{"messages": [{"content": "no role"}]}],
            "messages must be an array of messages with a role",
        ),
        (["a", "b"], "clineBridge.chat takes one object"),
    ],
)
async def test_invalid_chat_arguments(
    chat_client: LanguageClient, fake_api: FakeClineAPI, arguments: list[object], message: str
) -> None:
    error = await execute_error(chat_client, "clineBridge.chat", *arguments)

    assert error.code == -32602
    assert message in error.message
    assert fake_api.requests == []


async def _start_slow_chat(
    client: LanguageClient, fake_api: FakeClineAPI, msg_id: str
) -> asyncio.Future[object]:
    fake_api.script(sse(text_chunks(*["word "] * 200), delay=0.05))
    # pytest-lsp's send_request_async is a coroutine: start it now.
    reply = asyncio.ensure_future(
        client.protocol.send_request_async(
            "workspace/executeCommand",
            types.ExecuteCommandParams(
                command="clineBridge.chat", arguments=[{"prompt": "long"}], work_done_token=msg_id
            ),
            msg_id=msg_id,
        )
    )

    # Wait until text is streaming: the request is in flight at the API.
    async def first_report() -> None:
        # Polls what the client recorded: pytest-lsp has no event for a progress report.
        while not any(  # noqa: ASYNC110
            isinstance(r, types.WorkDoneProgressReport)
            for r in client.progress_reports.get(msg_id, [])
        ):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(first_report(), 10)
    return reply


async def test_cancel_request_stops_the_stream(
    chat_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    reply = await _start_slow_chat(chat_client, fake_api, "chat-cancel")

    chat_client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-cancel"))

    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(reply, 10)
    assert raised.value.code == -32800
    request = fake_api.requests[0]
    assert await asyncio.to_thread(request.finished.wait, 10)
    assert request.outcome == "client disconnected"


async def test_progress_cancel_stops_the_stream(
    chat_client: LanguageClient, fake_api: FakeClineAPI
) -> None:
    reply = await _start_slow_chat(chat_client, fake_api, "chat-progress-cancel")

    chat_client.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
        types.WorkDoneProgressCancelParams(token="chat-progress-cancel"),
    )

    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(reply, 10)
    assert raised.value.code == -32800
    reports = chat_client.progress_reports["chat-progress-cancel"]
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    # The sidecar keeps serving.
    fake_api.script(sse(text_chunks("still here")))
    assert (await execute(chat_client, "clineBridge.chat", {"prompt": "x"}))["text"] == "still here"
