"""Code actions: "Cline: explain / fix / improve" for editors that run tasks in the Cline CLI.

The sidecar picks the ACP host when ``acp.command[0]`` resolves and starts the agent only for a task
command, so an interpreter that does nothing stands in for the CLI: listing code actions never
starts it. A client that lends the Cline extension (``clineApi: true``) gets no actions.

The actions are checked as the JSON an editor receives: lsprotocol reads any code action that
carries a ``command`` as a bare ``Command`` (its union hook looks for the key), which would hide
the kind and the diagnostics.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from tests.support.editor_double import EditorClient
from tests.support.sidecar import SERVER_COMMAND

# An agent command that resolves (so the host is "acp") and is never started by these tests.
STAND_IN_AGENT = [sys.executable, "-c", "pass"]
BODY = "    result = 0\n    for p in prices:\n        result += p\n    return reslt"
SOURCE = f"def total(prices):\n{BODY}\n"
START_NEW_TASK = "clineBridge.startNewTask"
TITLES = ["Cline: explain", "Cline: fix", "Cline: improve"]
KINDS = ["", "quickfix", "refactor.rewrite"]


@attrs.define
class RawResponse:
    id: Any
    jsonrpc: str
    result: Any = None


class RawCodeActionProtocol(LanguageClientProtocol):
    # The parent caches this method, which mypy sees as a different signature.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method == types.TEXT_DOCUMENT_CODE_ACTION:
            return RawResponse
        return super().get_result_type(method)


class RawCodeActionClient(LanguageClient):
    """A test client that keeps textDocument/codeAction results as plain JSON."""

    def __init__(self) -> None:
        super().__init__(protocol_cls=RawCodeActionProtocol, converter_factory=default_converter)
        register_lsp_features(self)
        self.server_capabilities: types.ServerCapabilities | None = None


def raw_config() -> ClientServerConfig:
    return ClientServerConfig(server_command=SERVER_COMMAND, client_factory=RawCodeActionClient)


def _initialize_params(
    workspace: Path, options: dict[str, object], capabilities: types.ClientCapabilities
) -> types.InitializeParams:
    uri: str | None = from_fs_path(str(workspace))
    assert uri is not None
    return types.InitializeParams(
        capabilities=capabilities,
        client_info=types.ClientInfo(name="code-action-test-editor"),
        root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri=uri, name=workspace.name)],
        initialization_options={"control": False, **options},
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "shop.py").write_text(SOURCE)
    return folder


@pytest_lsp.fixture(config=raw_config())
async def acp_editor(lsp_client: RawCodeActionClient, workspace: Path) -> AsyncIterator[None]:
    """Neovim 0.7's capabilities, no ClineAPI, and a Cline CLI command that resolves."""
    result = await lsp_client.initialize_session(
        _initialize_params(
            workspace, {"acp": {"command": STAND_IN_AGENT}}, client_capabilities("neovim@v0.7.0")
        )
    )
    lsp_client.server_capabilities = result.capabilities
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=raw_config())
async def commands_only_editor(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """An old client that takes commands, not CodeAction literals."""
    await lsp_client.initialize_session(
        _initialize_params(
            workspace, {"acp": {"command": STAND_IN_AGENT}}, types.ClientCapabilities()
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=raw_config())
async def no_cli_editor(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """No ClineAPI and a Cline CLI command that does not resolve: no host."""
    missing = str(workspace / "no-such-cline")
    await lsp_client.initialize_session(
        _initialize_params(
            workspace, {"acp": {"command": [missing]}}, client_capabilities("neovim@v0.7.0")
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=EditorClient)
)
async def vscode_editor(lsp_client: EditorClient, workspace: Path) -> AsyncIterator[None]:
    """The VS Code extension: ClineAPI lent, so Cline's own panel has the actions."""
    await lsp_client.initialize_session(
        _initialize_params(
            workspace,
            {"clineApi": True, "acp": {"command": STAND_IN_AGENT}},
            client_capabilities("visual-studio-code"),
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, path: Path, language_id: str = "python") -> str:
    uri: str | None = from_fs_path(str(path))
    assert uri is not None
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=path.read_text()
            )
        )
    )
    return uri


async def code_actions(
    client: LanguageClient,
    uri: str,
    start: tuple[int, int],
    end: tuple[int, int],
    diagnostics: Sequence[types.Diagnostic] = (),
    only: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The code actions for a range, as the JSON the editor receives."""
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(*start), end=types.Position(*end)),
            context=types.CodeActionContext(
                diagnostics=list(diagnostics),
                only=None if only is None else [types.CodeActionKind(kind) for kind in only],
            ),
        )
    )
    assert result is None or isinstance(result, list)
    return list(result or [])


def prompt_of(action: dict[str, Any]) -> str:
    """The task text of an action's startNewTask command (a code action's, or a bare command)."""
    command = action.get("command")
    if isinstance(command, str):  # a bare Command
        command = action
    assert isinstance(command, dict)
    assert command["command"] == START_NEW_TASK
    assert command["title"] == action["title"]
    [prompt] = command["arguments"]
    assert isinstance(prompt, str)
    return prompt


UNDEFINED = types.Diagnostic(
    range=types.Range(start=types.Position(4, 11), end=types.Position(4, 16)),
    message='"reslt" is not defined',
    severity=types.DiagnosticSeverity.Error,
    source="pyright",
    code="reportUndefinedVariable",
)
UNDEFINED_JSON = {
    "range": {"start": {"line": 4, "character": 11}, "end": {"line": 4, "character": 16}},
    "message": '"reslt" is not defined',
    "severity": 1,
    "source": "pyright",
    "code": "reportUndefinedVariable",
}


async def test_three_actions_start_a_task_about_the_selection(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(acp_editor, workspace / "shop.py")

    actions = await code_actions(acp_editor, uri, (1, 0), (4, 16))

    assert [action["title"] for action in actions] == TITLES
    assert [action["kind"] for action in actions] == KINDS
    for action in actions:
        assert set(action) == {"title", "kind", "command"}  # no edit: the task does the work
        prompt = prompt_of(action)
        assert f"`{workspace / 'shop.py'}`, lines 2-5 (python)" in prompt
        assert (
            "    result = 0\n    for p in prices:\n        result += p\n    return reslt" in prompt
        )
        assert "def total" not in prompt
    assert prompt_of(actions[0]).startswith("Explain the code below")
    assert prompt_of(actions[1]).startswith("Find and fix the bug in the code below")
    assert prompt_of(actions[2]).startswith("Improve the code below")


async def test_fix_quotes_the_diagnostics_and_names_them(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(acp_editor, workspace / "shop.py")

    actions = await code_actions(acp_editor, uri, (4, 0), (4, 16), diagnostics=[UNDEFINED])

    [fix] = [action for action in actions if action["title"] == "Cline: fix"]
    assert fix["diagnostics"] == [UNDEFINED_JSON]
    prompt = prompt_of(fix)
    assert prompt.startswith("Fix the problems the editor reports in the code below")
    assert '- line 5, error, pyright [reportUndefinedVariable]: "reslt" is not defined' in prompt
    assert "```python\n    return reslt\n```" in prompt
    others = [action for action in actions if action is not fix]
    assert all("is not defined" not in prompt_of(action) for action in others)
    assert all("diagnostics" not in action for action in others)


async def test_an_empty_range_is_about_its_line(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(acp_editor, workspace / "shop.py")

    actions = await code_actions(acp_editor, uri, (3, 5), (3, 5))

    prompt = prompt_of(actions[0])
    assert f"`{workspace / 'shop.py'}`, line 4 (python)" in prompt
    assert "```python\n        result += p\n```" in prompt


async def test_the_editors_text_wins_over_the_file(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(acp_editor, workspace / "shop.py")
    acp_editor.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="unsaved = 1\n")],
        )
    )

    actions = await code_actions(acp_editor, uri, (0, 0), (0, 0))

    assert "```python\nunsaved = 1\n```" in prompt_of(actions[0])


async def test_a_file_the_editor_has_not_opened_is_read_from_disk(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    path = workspace / "notes.md"
    path.write_text("# Notes\n\nBuy milk.\n")
    uri: str | None = from_fs_path(str(path))
    assert uri is not None

    actions = await code_actions(acp_editor, uri, (2, 0), (2, 9))

    prompt = prompt_of(actions[0])
    assert f"`{path}`, line 3:" in prompt  # no language id: the editor did not say
    assert "```\nBuy milk.\n```" in prompt


async def test_a_missing_file_still_gets_a_prompt_with_its_location(
    acp_editor: LanguageClient, workspace: Path
) -> None:
    uri: str | None = from_fs_path(str(workspace / "gone.py"))
    assert uri is not None

    actions = await code_actions(acp_editor, uri, (0, 0), (2, 0))

    prompt = prompt_of(actions[2])
    assert f"`{workspace / 'gone.py'}`, lines 1-2" in prompt
    assert "could not be read here" in prompt


@pytest.mark.parametrize(
    ("only", "titles"),
    [
        (["quickfix"], ["Cline: fix"]),
        (["refactor"], ["Cline: improve"]),
        (["refactor.rewrite"], ["Cline: improve"]),
        (["quickfix", "refactor"], TITLES[1:]),
        ([""], ["Cline: explain"]),
        (["source"], []),
        (["refactor.extract"], []),
    ],
)
async def test_context_only_filters_by_kind(
    acp_editor: LanguageClient, workspace: Path, only: list[str], titles: list[str]
) -> None:
    uri = open_document(acp_editor, workspace / "shop.py")

    actions = await code_actions(acp_editor, uri, (0, 0), (1, 0), only=only)

    assert [action["title"] for action in actions] == titles


async def test_the_server_advertises_the_kinds(acp_editor: RawCodeActionClient) -> None:
    assert acp_editor.server_capabilities is not None
    provider = acp_editor.server_capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions)
    assert list(provider.code_action_kinds or []) == KINDS


async def test_a_client_without_code_action_literals_gets_commands(
    commands_only_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(commands_only_editor, workspace / "shop.py")

    actions = await code_actions(commands_only_editor, uri, (0, 0), (0, 0))

    assert [action["title"] for action in actions] == TITLES
    assert all(action["command"] == START_NEW_TASK for action in actions)
    assert all("def total(prices):" in prompt_of(action) for action in actions)


async def test_the_vscode_client_gets_no_actions(
    vscode_editor: EditorClient, workspace: Path
) -> None:
    uri = open_document(vscode_editor, workspace / "shop.py")

    assert await code_actions(vscode_editor, uri, (0, 0), (4, 0)) == []


async def test_without_a_host_there_are_no_actions(
    no_cli_editor: LanguageClient, workspace: Path
) -> None:
    uri = open_document(no_cli_editor, workspace / "shop.py")

    assert await code_actions(no_cli_editor, uri, (0, 0), (4, 0)) == []
