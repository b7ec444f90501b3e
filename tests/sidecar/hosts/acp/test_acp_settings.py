"""``acp.command`` and its fallbacks: ``CLINE_BRIDGE_ACP_COMMAND``, then ``cline --acp``."""

from __future__ import annotations

import logging

import pytest

from cline_bridge.sidecar.settings import DEFAULT_ACP_COMMAND, ENV_ACP_COMMAND, Settings


def test_the_environment_command_is_split_like_a_shell_would() -> None:
    settings = Settings.from_initialization_options(
        {}, {ENV_ACP_COMMAND: "'/opt/my cline/bin/cline' --acp --config \"a b\""}
    )

    assert settings.acp_command == ("/opt/my cline/bin/cline", "--acp", "--config", "a b")


def test_acp_command_wins_over_the_environment() -> None:
    settings = Settings.from_initialization_options(
        {"acp": {"command": ["/usr/local/bin/cline", "--acp"], "env": {"CLINE_DIR": "/tmp/c"}}},
        {ENV_ACP_COMMAND: "/elsewhere/cline --acp"},
    )

    assert settings.acp_command == ("/usr/local/bin/cline", "--acp")
    assert settings.acp_env == {"CLINE_DIR": "/tmp/c"}


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_environment_command_means_the_default(value: str) -> None:
    settings = Settings.from_initialization_options({}, {ENV_ACP_COMMAND: value})

    assert settings.acp_command == DEFAULT_ACP_COMMAND == ("cline", "--acp")


def test_bad_quoting_falls_back_to_the_default_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cline_bridge"):
        settings = Settings.from_initialization_options(
            {}, {ENV_ACP_COMMAND: "'/opt/my cline/bin/cline --acp"}
        )

    assert settings.acp_command == DEFAULT_ACP_COMMAND
    assert ENV_ACP_COMMAND in caplog.text
    assert "using the default" in caplog.text


def test_a_bad_acp_command_falls_back_to_the_environment() -> None:
    settings = Settings.from_initialization_options(
        {"acp": {"command": []}}, {ENV_ACP_COMMAND: "my-cline --acp"}
    )

    assert settings.acp_command == ("my-cline", "--acp")
