"""Discovery files: the private runtime folder, atomic writes, stale cleanup, choosing a bridge."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cline_bridge.wire.discovery import (
    NO_BRIDGE_MESSAGE,
    DiscoveryRecord,
    TcpEndpoint,
    UnixEndpoint,
    live_bridges,
    parse_endpoint,
    pid_alive,
    remove_discovery,
    runtime_dir,
    select_bridge,
    write_discovery,
)
from cline_bridge.wire.errors import BridgeNotFoundError, RuntimeDirError
from tests.support.discovery_fixtures import make_record

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and owners")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# -- the runtime folder ------------------------------------------------------------------------


def test_runtime_dir_is_a_private_folder_under_xdg_runtime_dir(runtime: Path) -> None:
    folder = runtime_dir(create=True)

    assert folder == runtime
    assert folder.parent == Path(os.environ["XDG_RUNTIME_DIR"])
    assert mode(folder) == 0o700
    assert folder.stat().st_uid == os.getuid()


def test_runtime_dir_without_create_leaves_a_missing_folder_missing(runtime: Path) -> None:
    assert runtime_dir(create=False) == runtime
    assert not runtime.exists()


def test_without_xdg_runtime_dir_the_folder_is_per_user_in_the_temp_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    folder = runtime_dir(create=True)

    assert folder == tmp_path / f"cline-bridge-{os.getuid()}"
    assert mode(folder) == 0o700


def test_the_folder_is_0700_whatever_the_umask(runtime: Path) -> None:
    previous = os.umask(0o777)
    try:
        folder = runtime_dir(create=True)
    finally:
        os.umask(previous)
    assert mode(folder) == 0o700


@pytest.mark.parametrize("create", [True, False])
@pytest.mark.parametrize("bad_mode", [0o777, 0o770, 0o702])
def test_a_folder_writable_by_others_is_refused(runtime: Path, create: bool, bad_mode: int) -> None:
    runtime.mkdir()
    runtime.chmod(bad_mode)

    with pytest.raises(RuntimeDirError, match="other users can write to it") as raised:
        runtime_dir(create=create)
    assert str(runtime) in raised.value.message
    assert "chmod 700" in raised.value.message


def test_a_readable_but_not_writable_folder_is_used(runtime: Path) -> None:
    runtime.mkdir()
    runtime.chmod(0o755)

    assert runtime_dir(create=True) == runtime


@pytest.mark.parametrize("create", [True, False])
def test_a_folder_of_another_user_is_refused(
    runtime: Path, monkeypatch: pytest.MonkeyPatch, create: bool
) -> None:
    runtime.mkdir(mode=0o700)
    someone_else = os.getuid() + 1
    monkeypatch.setattr(os, "getuid", lambda: someone_else)

    with pytest.raises(RuntimeDirError, match="belongs to another user"):
        runtime_dir(create=create)


def test_a_symbolic_link_is_refused(runtime: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    runtime.symlink_to(elsewhere)

    with pytest.raises(RuntimeDirError, match="not a directory"):
        runtime_dir(create=True)


def test_a_file_in_its_place_is_refused(runtime: Path) -> None:
    runtime.write_text("")

    with pytest.raises(RuntimeDirError, match="not a directory"):
        runtime_dir(create=True)


def test_refusals_are_bridge_errors_without_a_code(runtime: Path) -> None:
    runtime.mkdir()
    runtime.chmod(0o777)

    with pytest.raises(RuntimeDirError) as raised:
        live_bridges()
    assert raised.value.code is None


LONG_AGO = "2020-01-02T03:04:05.000000+00:00"
"""A ``startedAt`` before any process of this test started."""


# -- writing and removing discovery files -------------------------------------------------------


def test_write_discovery_writes_the_record_0600(runtime: Path) -> None:
    record = make_record(os.getpid(), ["/srv/a", "/srv/b"], endpoint="unix:/run/x.sock")

    path = write_discovery(record)

    assert path == runtime / f"{os.getpid()}.json"
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == {
        "pid": os.getpid(),
        "endpoint": "unix:/run/x.sock",
        "token": record.token,
        "workspaceFolders": ["/srv/a", "/srv/b"],
        "host": "editor",
        "version": "0.1.0",
        "startedAt": record.started_at,
    }
    assert DiscoveryRecord.from_file(path) == record
    assert [p.name for p in runtime.iterdir()] == [path.name], "no temporary file is left"


def test_write_discovery_is_atomic_and_never_world_readable(
    runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_discovery(make_record(os.getpid(), token="old-token"))
    seen: list[tuple[int, str, str]] = []
    real_replace = os.replace

    def spy(source: str, target: str) -> None:
        # At the moment of the rename the target still holds the old record whole, and the new
        # one is complete in a 0600 file beside it.
        seen.append(
            (
                mode(Path(source)),
                json.loads(Path(source).read_text())["token"],
                json.loads(Path(target).read_text())["token"],
            )
        )
        assert Path(source).parent == Path(target).parent
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    previous = os.umask(0)
    try:
        path = write_discovery(make_record(os.getpid(), token="new-token"))
    finally:
        os.umask(previous)

    assert seen == [(0o600, "new-token", "old-token")]
    assert mode(path) == 0o600
    assert DiscoveryRecord.from_file(path).token == "new-token"
    assert sorted(p.name for p in runtime.iterdir()) == [path.name]


def test_a_failed_write_leaves_no_temporary_file(
    runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)

    with pytest.raises(OSError, match="No space"):
        write_discovery(make_record(os.getpid()))
    assert list(runtime.iterdir()) == []


def test_remove_discovery_removes_the_file_and_the_socket(runtime: Path) -> None:
    path = write_discovery(make_record(4242))
    socket_file = runtime / "4242.sock"
    socket_file.write_text("")

    remove_discovery(4242)
    remove_discovery(4242)  # already gone: quietly nothing

    assert not path.exists()
    assert not socket_file.exists()


# -- records ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"pid": "12"}, "pid"),
        ({"pid": 0}, "pid"),
        ({"pid": True}, "pid"),
        ({"token": None}, "token"),
        ({"token": ""}, "token"),
        ({"endpoint": "http://127.0.0.1:8080"}, "endpoint"),
        ({"endpoint": "tcp:10.0.0.8:4000"}, "loopback"),
        ({"workspaceFolders": "/srv"}, "workspaceFolders"),
        ({"workspaceFolders": [1]}, "workspaceFolders"),
        ({"startedAt": 5}, "startedAt"),
    ],
)
def test_from_json_says_what_is_wrong(change: dict[str, object], complaint: str) -> None:
    data = {**make_record(77).to_json(), **change}

    with pytest.raises(ValueError, match=complaint):
        DiscoveryRecord.from_json(data)


def test_from_json_of_a_non_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        DiscoveryRecord.from_json([1, 2])


def test_parse_endpoint() -> None:
    assert parse_endpoint("unix:/run/user/1/cline-bridge/5.sock") == UnixEndpoint(
        "/run/user/1/cline-bridge/5.sock"
    )
    assert parse_endpoint("tcp:127.0.0.1:50123") == TcpEndpoint("127.0.0.1", 50123)
    with pytest.raises(ValueError, match="loopback"):
        parse_endpoint("tcp:0.0.0.0:50123")
    with pytest.raises(ValueError, match="unix:<path>"):
        parse_endpoint("unix:")


def test_pid_alive(dead_pid: int) -> None:
    assert pid_alive(os.getpid())
    assert pid_alive(1), "another user's process (PermissionError) is alive"
    assert not pid_alive(dead_pid)
    assert not pid_alive(0)
    assert not pid_alive(-1)


# -- live bridges and stale files ---------------------------------------------------------------


def test_live_bridges_without_a_folder_is_empty(runtime: Path) -> None:
    assert live_bridges() == []
    assert not runtime.exists()


def test_live_bridges_keeps_the_live_and_cleans_the_stale(runtime: Path, dead_pid: int) -> None:
    live_record = make_record(os.getpid(), ["/srv/a"])
    live = write_discovery(live_record)
    stale = write_discovery(make_record(dead_pid, ["/srv/b"]))
    stale_socket = runtime / f"{dead_pid}.sock"
    stale_socket.write_text("")
    live_socket = runtime / f"{os.getpid()}.sock"
    live_socket.write_text("")

    assert live_bridges() == [(live, live_record)]
    assert not stale.exists()
    assert not stale_socket.exists()
    assert live.exists()
    assert live_socket.exists()


def test_live_bridges_skips_what_is_not_a_live_record(
    runtime: Path, dead_pid: int, live_pid: Callable[[], int]
) -> None:
    runtime_dir(create=True)
    other = live_pid()
    (runtime / f"{os.getpid()}.json").write_text("{not json")  # live: left alone, skipped
    (runtime / f"{dead_pid}.json").write_text("{not json")  # dead: removed
    (runtime / f"{other}.json").write_text(json.dumps(make_record(os.getppid()).to_json()))
    (runtime / f".{os.getpid()}.abc.tmp").write_text("{}")
    (runtime / "notes.txt").write_text("")
    (runtime / f"{dead_pid}.sock").write_text("")  # a socket without a file, of a dead process

    assert live_bridges() == []
    assert sorted(p.name for p in runtime.iterdir()) == sorted(
        [f"{os.getpid()}.json", f"{other}.json", f".{os.getpid()}.abc.tmp", "notes.txt"]
    )


def test_live_bridges_are_listed_by_pid(runtime: Path, live_pid: Callable[[], int]) -> None:
    pids = sorted([os.getpid(), live_pid(), live_pid()])
    for pid in reversed(pids):
        write_discovery(make_record(pid))

    assert [record.pid for _, record in live_bridges()] == pids


# -- choosing a bridge --------------------------------------------------------------------------


def test_with_no_bridge_the_error_says_how_to_start_one(runtime: Path, tmp_path: Path) -> None:
    with pytest.raises(BridgeNotFoundError) as raised:
        select_bridge(None, {}, tmp_path)
    assert raised.value.message == NO_BRIDGE_MESSAGE
    assert raised.value.code is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="start times read from /proc")
def test_a_leftover_whose_pid_was_reused_is_stale(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    # A sidecar killed long ago left its file; a process started since has its pid.
    reused = write_discovery(make_record(live_pid(), [tmp_path], started_at=LONG_AGO))
    named = write_discovery(make_record(live_pid(), ["/elsewhere"], started_at=LONG_AGO))
    here = make_record(os.getpid(), [tmp_path])
    here_path = write_discovery(here)

    with pytest.raises(BridgeNotFoundError, match="is stale: its bridge"):
        select_bridge(named, {}, tmp_path)
    assert live_bridges() == [(here_path, here)]
    assert not reused.exists(), "the leftover is deleted"
    assert select_bridge(None, {}, tmp_path) == (here_path, here), "and blocks nothing"


def test_the_only_live_bridge_is_chosen_wherever_one_is(
    runtime: Path, tmp_path: Path, dead_pid: int
) -> None:
    record = make_record(os.getpid(), ["/somewhere/else"])
    path = write_discovery(record)
    write_discovery(make_record(dead_pid, [tmp_path]))

    assert select_bridge(None, {}, tmp_path) == (path, record)


def test_the_bridge_serving_the_current_directory_is_chosen(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    project, other = tmp_path / "project", tmp_path / "other"
    (project / "src").mkdir(parents=True)
    other.mkdir()
    mine = write_discovery(make_record(os.getpid(), [other, project]))
    write_discovery(make_record(live_pid(), [tmp_path / "third"]))

    assert select_bridge(None, {}, project / "src")[0] == mine
    assert select_bridge(None, {}, project)[0] == mine


def test_the_deepest_workspace_folder_wins(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    inner = tmp_path / "mono" / "packages" / "web"
    (inner / "src").mkdir(parents=True)
    (tmp_path / "mono" / "docs").mkdir()
    outer_pid, inner_pid = live_pid(), live_pid()
    outer = write_discovery(make_record(outer_pid, [tmp_path / "mono"]))
    nested = write_discovery(make_record(inner_pid, ["/unrelated", inner]))

    assert select_bridge(None, {}, inner / "src")[0] == nested
    assert select_bridge(None, {}, tmp_path / "mono" / "docs")[0] == outer


def test_paths_are_compared_resolved(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    by_link = write_discovery(make_record(live_pid(), [link]))  # the editor opened the link
    write_discovery(make_record(live_pid(), [tmp_path / "unrelated"]))

    assert select_bridge(None, {}, real / "sub")[0] == by_link
    assert select_bridge(None, {}, link / "sub" / ".." / "sub")[0] == by_link


def test_a_sibling_with_a_common_prefix_does_not_hold_the_directory(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    (tmp_path / "app-2").mkdir()
    write_discovery(make_record(live_pid(), [tmp_path / "app"]))
    write_discovery(make_record(live_pid(), [tmp_path / "lib"]))

    with pytest.raises(BridgeNotFoundError, match="none serves"):
        select_bridge(None, {}, tmp_path / "app-2")


def test_several_bridges_none_serving_here_is_an_error_that_lists_them(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    first, second = live_pid(), live_pid()
    write_discovery(make_record(first, ["/srv/a", "/srv/b"]))
    write_discovery(make_record(second, [], host="acp"))

    with pytest.raises(BridgeNotFoundError) as raised:
        select_bridge(None, {}, tmp_path)
    message = raised.value.message
    assert f"2 cline-bridges are running and none serves {tmp_path.resolve()}" in message
    assert f"pid {first} (editor: /srv/a, /srv/b) in {runtime / f'{first}.json'}" in message
    assert f"pid {second} (acp: no folder)" in message
    assert message.endswith("choose one with --bridge FILE or CLINE_BRIDGE=FILE")
    assert "\n" not in message
    assert "test-token" not in message


def test_two_bridges_on_the_same_folder_are_ambiguous(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    first, second = live_pid(), live_pid()
    write_discovery(make_record(first, [tmp_path]))
    write_discovery(make_record(second, [tmp_path]))

    with pytest.raises(BridgeNotFoundError, match=f"2 cline-bridges serve {tmp_path.resolve()}"):
        select_bridge(None, {}, tmp_path)


def test_cline_bridge_env_wins_over_the_directory(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    write_discovery(make_record(os.getpid(), [tmp_path]))
    named = write_discovery(make_record(live_pid(), ["/elsewhere"]))

    assert select_bridge(None, {"CLINE_BRIDGE": str(named)}, tmp_path)[0] == named


def test_explicit_file_wins_over_env_and_directory(
    runtime: Path, tmp_path: Path, live_pid: Callable[[], int]
) -> None:
    here = write_discovery(make_record(os.getpid(), [tmp_path]))
    from_env = write_discovery(make_record(live_pid()))
    # An explicit file need not live in the runtime folder.
    explicit = tmp_path / "bridge.json"
    explicit.write_text(json.dumps(make_record(live_pid(), ["/x"]).to_json()))

    path, record = select_bridge(explicit, {"CLINE_BRIDGE": str(from_env)}, tmp_path)

    assert (path, record.workspace_folders) == (explicit, ("/x",))
    assert select_bridge(str(explicit), {}, tmp_path)[0] == explicit
    assert select_bridge(None, {}, tmp_path)[0] == here


def test_an_explicit_file_that_is_gone_is_an_error(runtime: Path, tmp_path: Path) -> None:
    write_discovery(make_record(os.getpid(), [tmp_path]))
    missing = runtime / "999999.json"

    with pytest.raises(BridgeNotFoundError, match=r"\(from --bridge\) does not exist"):
        select_bridge(missing, {}, tmp_path)


def test_an_explicit_stale_file_is_an_error(runtime: Path, tmp_path: Path, dead_pid: int) -> None:
    write_discovery(make_record(os.getpid(), [tmp_path]))
    stale = write_discovery(make_record(dead_pid))

    with pytest.raises(BridgeNotFoundError, match=f"is stale: its bridge \\(pid {dead_pid}\\)"):
        select_bridge(stale, {}, tmp_path)


def test_an_explicit_file_that_is_not_a_discovery_file_is_an_error(
    runtime: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "package.json"
    wrong.write_text('{"name": "x"}')

    with pytest.raises(BridgeNotFoundError, match="is not a cline-bridge discovery file: pid"):
        select_bridge(wrong, {}, tmp_path)


@pytest.mark.parametrize("gone", ["missing", "stale"])
def test_a_gone_cline_bridge_env_falls_back_to_the_other_rules(
    runtime: Path, tmp_path: Path, dead_pid: int, gone: str
) -> None:
    here = write_discovery(make_record(os.getpid(), [tmp_path]))
    named = runtime / "999999.json" if gone == "missing" else write_discovery(make_record(dead_pid))

    assert select_bridge(None, {"CLINE_BRIDGE": str(named)}, tmp_path)[0] == here


def test_a_malformed_cline_bridge_env_is_an_error(runtime: Path, tmp_path: Path) -> None:
    write_discovery(make_record(os.getpid(), [tmp_path]))
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[]")

    with pytest.raises(BridgeNotFoundError, match=r"\(from CLINE_BRIDGE\) is not a cline-bridge"):
        select_bridge(None, {"CLINE_BRIDGE": str(wrong)}, tmp_path)


def test_select_bridge_defaults_to_the_process_environment_and_directory(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_pid: Callable[[], int]
) -> None:
    here = write_discovery(make_record(os.getpid(), [tmp_path]))
    named = write_discovery(make_record(live_pid(), ["/elsewhere"]))
    monkeypatch.chdir(tmp_path)

    assert select_bridge()[0] == here
    monkeypatch.setenv("CLINE_BRIDGE", str(named))
    assert select_bridge()[0] == named
