"""``plan_launch``: which program, which environment, which secrets; and ``redact``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cline_bridge.sidecar.hosts.acp.launch import AgentLaunch, plan_launch

CWD = "/work/project"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A folder holding an executable ``fake-cline`` and a non-executable ``not-a-program``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "fake-cline"
    program.write_text("#!/bin/sh\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    (folder / "not-a-program").write_text("plain text\n")
    return folder


def _plan(command: list[str], extra: dict[str, str], environ: dict[str, str]) -> AgentLaunch | None:
    return plan_launch(command, extra, environ, CWD)


def test_program_is_found_on_the_childs_path(bin_dir: Path) -> None:
    launch = _plan(["fake-cline", "--acp"], {"PATH": str(bin_dir)}, {"PATH": "/nonexistent"})

    assert launch is not None
    assert launch.command == (str(bin_dir / "fake-cline"), "--acp")
    assert launch.cwd == CWD


def test_program_is_found_on_the_sidecars_path_when_acp_env_sets_none(bin_dir: Path) -> None:
    launch = _plan(["fake-cline"], {}, {"PATH": f"/nonexistent{os.pathsep}{bin_dir}"})

    assert launch is not None
    assert launch.command == (str(bin_dir / "fake-cline"),)


def test_program_given_as_a_path(bin_dir: Path) -> None:
    path = str(bin_dir / "fake-cline")

    launch = _plan([path, "--acp"], {}, {"PATH": "/nonexistent"})

    assert launch is not None
    assert launch.command == (path, "--acp")
    assert launch.describe() == f"{path} --acp"


def test_no_launch_when_the_program_is_missing(bin_dir: Path) -> None:
    environ = {"PATH": str(bin_dir)}

    assert _plan(["no-such-cline", "--acp"], {}, environ) is None
    assert _plan([str(bin_dir / "no-such-cline")], {}, environ) is None
    assert _plan(["not-a-program"], {}, environ) is None  # on PATH, but not executable
    assert _plan([str(bin_dir / "not-a-program")], {}, environ) is None
    assert _plan(["fake-cline"], {"PATH": "/nonexistent"}, environ) is None  # the child's PATH


def test_child_defaults_apply_unless_the_user_set_them(bin_dir: Path) -> None:
    program = str(bin_dir / "fake-cline")

    defaults = _plan([program], {}, {"PATH": "/usr/bin"})
    from_environ = _plan([program], {}, {"CLINE_SESSION_BACKEND_MODE": "hub"})
    from_acp_env = _plan(
        [program],
        {"CLINE_NO_AUTO_UPDATE": "0", "CLINE_SESSION_BACKEND_MODE": "remote"},
        {"CLINE_NO_AUTO_UPDATE": "1", "CLINE_SESSION_BACKEND_MODE": "hub"},
    )

    assert defaults is not None
    assert from_environ is not None
    assert from_acp_env is not None
    assert defaults.env == {
        "CLINE_SESSION_BACKEND_MODE": "local",
        "CLINE_NO_AUTO_UPDATE": "1",
        "PATH": "/usr/bin",
    }
    assert from_environ.env["CLINE_SESSION_BACKEND_MODE"] == "hub"
    assert from_environ.env["CLINE_NO_AUTO_UPDATE"] == "1"
    assert from_acp_env.env["CLINE_SESSION_BACKEND_MODE"] == "remote"
    assert from_acp_env.env["CLINE_NO_AUTO_UPDATE"] == "0"


def test_acp_env_is_laid_over_the_sidecars_environment(bin_dir: Path) -> None:
    launch = _plan(
        [str(bin_dir / "fake-cline")],
        {"CLINE_PROVIDER": "openai-compatible", "HOME": "/tmp/cline-home"},
        {"HOME": "/home/user", "LANG": "C.UTF-8"},
    )

    assert launch is not None
    assert launch.env["CLINE_PROVIDER"] == "openai-compatible"
    assert launch.env["HOME"] == "/tmp/cline-home"
    assert launch.env["LANG"] == "C.UTF-8"


def test_secrets_are_the_values_of_secret_looking_names(bin_dir: Path) -> None:
    launch = _plan(
        [str(bin_dir / "fake-cline")],
        {"CLINE_API_KEY": "sk-secret-123", "github_token": "ghp_abcdef"},
        {
            "DB_PASSWORD": "hunter22",
            "AWS_SECRET_ACCESS_KEY": "aws/secret",
            "GOOGLE_APPLICATION_CREDENTIALS": "/keys/service.json",
            "SHORT_KEY": "abc",  # too short to be worth redacting (it would mangle text)
            "EDITOR": "nvim",
            "MONKEY_BUSINESS": "bananas",  # "KEY" in the name is enough: better safe
        },
    )

    assert launch is not None
    assert set(launch.secrets) == {
        "sk-secret-123",
        "ghp_abcdef",
        "hunter22",
        "aws/secret",
        "/keys/service.json",
        "bananas",
    }
    assert [len(secret) for secret in launch.secrets] == sorted(
        (len(secret) for secret in launch.secrets), reverse=True
    )
    assert "sk-secret-123" not in repr(launch)


def test_redact_replaces_every_secret_and_the_longest_whole(bin_dir: Path) -> None:
    launch = _plan(
        [str(bin_dir / "fake-cline")],
        {"CLINE_API_KEY": "sk-secret-123", "OTHER_TOKEN": "sk-secret"},
        {},
    )

    assert launch is not None
    assert (
        launch.redact("key sk-secret-123, again sk-secret-123, prefix sk-secret; nvim")
        == "key ***, again ***, prefix ***; nvim"
    )
    assert launch.redact("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize(
    ("arguments", "extra", "expected"),
    [
        pytest.param(["--acp", "--data-dir", "/d"], {}, "/d", id="--data-dir X"),
        pytest.param(["--data-dir=/d", "--acp"], {}, "/d", id="--data-dir=X"),
        pytest.param(["--data-dir", "/a", "--data-dir=/b"], {}, "/b", id="the last one"),
        pytest.param(["--data-dir", "d"], {}, f"{CWD}/d", id="relative: from the agent's cwd"),
        pytest.param(["--acp"], {"CLINE_DATA_DIR": "/env"}, "/env", id="CLINE_DATA_DIR"),
        pytest.param(["--acp"], {"CLINE_DIR": "/c"}, "/c/data", id="CLINE_DIR"),
        pytest.param(["--acp"], {"HOME": "/h"}, "/h/.cline/data", id="the agent's home"),
        pytest.param(["--acp", "--data-dir"], {"CLINE_DATA_DIR": "/env"}, "/env", id="no value"),
    ],
)
@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_the_agent_s_data_folder_is_where_the_agent_keeps_it(
    bin_dir: Path, arguments: list[str], extra: dict[str, str], expected: str
) -> None:
    launch = _plan([str(bin_dir / "fake-cline"), *arguments], extra, {"HOME": "/sidecar"})

    assert launch is not None
    assert launch.data_dir() == Path(expected)
