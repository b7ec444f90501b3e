from __future__ import annotations

import pytest

from cline_bridge.redaction import Secret
from cline_bridge.sidecar.settings import (
    DEFAULT_API_BASE_URL,
    DEFAULT_HOST_REQUEST_TIMEOUT,
    Settings,
)


def test_defaults_without_options_or_environment() -> None:
    settings = Settings.from_initialization_options(None, {})

    assert settings == Settings()
    assert settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.cline_api is False
    assert settings.control is True


def test_options_win_over_the_environment() -> None:
    settings = Settings.from_initialization_options(
        {"apiKey": "from-options", "apiBaseUrl": "http://127.0.0.1:9/v1/", "model": "a/b"},
        {"CLINE_API_KEY": "from-env", "CLINE_API_BASE_URL": "http://env", "CLINE_MODEL": "c/d"},
    )

    assert settings.api_key == Secret("from-options")
    assert settings.api_base_url == "http://127.0.0.1:9/v1"
    assert settings.model == "a/b"


def test_the_environment_fills_what_options_leave_out() -> None:
    settings = Settings.from_initialization_options(
        {}, {"CLINE_API_KEY": "k", "CLINE_API_BASE_URL": "http://env/v1", "CLINE_MODEL": "c/d"}
    )

    assert settings.api_key == Secret("k")
    assert (settings.api_base_url, settings.model) == ("http://env/v1", "c/d")


def test_values_of_the_wrong_type_fall_back_to_defaults() -> None:
    settings = Settings.from_initialization_options(
        {
            "clineApi": "true",
            "control": 0,
            "hostRequestTimeout": -5,
            "acp": {"command": "cline --acp", "env": {"A": 1}},
        },
        {},
    )

    assert settings.cline_api is False
    assert settings.control is True
    assert settings.host_request_timeout == DEFAULT_HOST_REQUEST_TIMEOUT
    assert settings.acp_command == ("cline", "--acp")
    assert settings.acp_env == {}


def test_what_the_editor_says_of_cline() -> None:
    said = Settings.from_initialization_options(
        {"cline": {"version": "4.1.13", "extensionHostPid": 4242}}, {}
    )
    missing = Settings.from_initialization_options(
        {"cline": {"installed": False, "extensionHostPid": 4242}}, {}
    )
    wrong = Settings.from_initialization_options(
        {"cline": {"version": 4, "extensionHostPid": -1, "installed": "no"}}, {}
    )

    assert (said.cline_installed, said.cline_version, said.cline_window_pid) == (
        True,
        "4.1.13",
        4242,
    )
    assert (missing.cline_installed, missing.cline_version) == (False, None)
    assert (wrong.cline_installed, wrong.cline_version, wrong.cline_window_pid) == (
        True,
        None,
        None,
    )


def test_options_that_are_not_an_object_are_ignored() -> None:
    assert Settings.from_initialization_options(["clineApi"], {}) == Settings()


def test_a_secret_never_shows_itself() -> None:
    secret = Secret("sk-live-123")
    settings = Settings(api_key=secret)

    for text in (repr(secret), str(secret), f"{secret}", repr(settings), str(settings)):
        assert "sk-live-123" not in text
    assert secret.reveal() == "sk-live-123"


def test_api_time_bounds_from_options_then_the_environment(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.from_initialization_options(
        {"apiTimeouts": {"idle": 5, "connect": "fast", "firstByte": 1e999}},
        {
            "CLINE_API_DEADLINE": " 30 ",
            "CLINE_API_IDLE_TIMEOUT": "12",
            "CLINE_API_CONNECT_TIMEOUT": "-1",
        },
    )

    assert settings.api_time_bounds == {"idle_timeout": 5.0, "deadline": 30.0}
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        "CLINE_API_CONNECT_TIMEOUT must be a positive number of seconds, not '-1'; "
        "using the default",
        "initializationOptions.apiTimeouts.connect should be a positive number, not string; "
        "using the default",
        "initializationOptions.apiTimeouts.firstByte should be a positive number, not number; "
        "using the default",
    ]


def test_no_time_bounds_given_leaves_the_clients_defaults() -> None:
    assert Settings.from_initialization_options({"apiTimeouts": {}}, {}).api_time_bounds == {}
