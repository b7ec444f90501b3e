"""What both hosts read of Cline's records: the data folder, and a manifest's usage."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cline_bridge.sidecar.cline_records import (
    RecordNotReady,
    RecordTooLarge,
    cline_data_dir,
    manifest_usage,
    read_usage,
    session_folder,
)

# As the Cline CLI 3.0.65 wrote it after one turn of two model requests (fake model).
RECORDED = {
    "inputTokens": 28,
    "outputTokens": 16,
    "cacheReadTokens": 0,
    "cacheWriteTokens": 0,
    "totalCost": 0,
}


def _manifest(**metadata: Any) -> dict[str, Any]:
    return {"version": 1, "session_id": "s1", "status": "idle", "metadata": metadata}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"CLINE_DATA_DIR": "/d", "CLINE_DIR": "/c"}, Path("/d"), id="CLINE_DATA_DIR"),
        pytest.param({"CLINE_DIR": "/c"}, Path("/c/data"), id="CLINE_DIR"),
        pytest.param({"CLINE_DATA_DIR": ""}, Path.home() / ".cline" / "data", id="home"),
        pytest.param(
            {"HOME": "/agent"},
            Path("/agent/.cline/data"),
            id="the agent's home",
            marks=pytest.mark.skipif(os.name == "nt", reason="USERPROFILE there"),
        ),
    ],
)
def test_the_data_folder_is_found_as_cline_finds_it(
    environ: dict[str, str], expected: Path
) -> None:
    assert cline_data_dir(environ) == expected


def test_usage_as_cline_records_it() -> None:
    assert manifest_usage(_manifest(usage=RECORDED)) == {
        "inputTokens": 28,
        "outputTokens": 16,
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cost": 0.0,
    }


def test_the_aggregate_usage_counts_subagents_and_wins() -> None:
    aggregate = {**RECORDED, "inputTokens": 100, "totalCost": 0.25}

    usage = manifest_usage(_manifest(usage=RECORDED, aggregateUsage=aggregate))

    assert usage is not None
    assert (usage["inputTokens"], usage["cost"]) == (100, 0.25)


def test_an_aggregate_usage_that_says_nothing_leaves_the_usage() -> None:
    usage = manifest_usage(_manifest(usage=RECORDED, aggregateUsage={"inputTokens": "many"}))

    assert usage is not None
    assert usage["inputTokens"] == 28


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param(None, id="absent"),
        pytest.param("12", id="a string"),
        pytest.param(True, id="a bool"),
        pytest.param(-3, id="negative"),
        pytest.param(float("nan"), id="NaN"),
        pytest.param(float("inf"), id="infinite"),
        pytest.param(10**400, id="beyond reason"),
        pytest.param([1], id="a list"),
    ],
)
def test_odd_counts_are_absent_and_an_absent_cost_is_null(odd: Any) -> None:
    recorded = {"inputTokens": odd, "outputTokens": 8, "totalCost": odd}

    assert manifest_usage(_manifest(usage=recorded)) == {
        "inputTokens": 0,
        "outputTokens": 8,
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cost": None,
    }


def test_fractional_counts_are_whole_and_a_cost_alone_is_a_usage() -> None:
    assert manifest_usage(_manifest(usage={"inputTokens": 14.0, "totalCost": 1})) == {
        "inputTokens": 14,
        "outputTokens": 0,
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
        "cost": 1.0,
    }


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param({"version": 1}, id="no metadata"),
        pytest.param({"metadata": "text"}, id="metadata not an object"),
        pytest.param(_manifest(title="go"), id="no usage"),
        pytest.param(_manifest(usage=[RECORDED]), id="usage not an object"),
        pytest.param(_manifest(usage={"inputTokens": "x", "totalCost": None}), id="nothing usable"),
        pytest.param(_manifest(usage={}), id="empty"),
    ],
)
def test_no_usage_recorded_is_none(manifest: dict[str, Any]) -> None:
    assert manifest_usage(manifest) is None


def test_usage_is_read_from_the_session_s_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "sessions" / "s1"
    folder.mkdir(parents=True)
    (folder / "s1.json").write_text(json.dumps(_manifest(usage=RECORDED)))

    usage = read_usage(tmp_path, "s1")

    assert usage is not None
    assert (usage["inputTokens"], usage["outputTokens"]) == (28, 16)
    with pytest.raises(RecordNotReady):
        read_usage(tmp_path, "s2")


def test_a_manifest_over_its_bound_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "sessions" / "s1"
    folder.mkdir(parents=True)
    (folder / "s1.json").write_text(json.dumps(_manifest(note="x" * 1024 * 1024)))

    with pytest.raises(RecordTooLarge, match="over 1 MiB"):
        read_usage(tmp_path, "s1")


@pytest.mark.parametrize("session_id", ["", ".", "..", "../s1", "a/b", "/etc"])
def test_a_session_id_that_is_no_folder_name_names_no_folder(
    tmp_path: Path, session_id: str
) -> None:
    assert session_folder(tmp_path, session_id) is None
    assert read_usage(tmp_path, session_id) is None
