"""The robustness tier: what bad input, slow peers and odd servers do to the sidecar, the REST
client and the CLI. Each case asserts that the program keeps serving or exits clearly, and that
no secret shows in anything captured. Fast: it runs in ``make test``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.robustness.canary import CANARY_KEY
from tests.support import raw_peer


@pytest.fixture(autouse=True)
def no_secret_shown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Every case runs with the canary key in its environment; afterwards, neither what its
    sidecars wrote (stdout messages, stderr) nor what was logged in the test's process shows it."""
    monkeypatch.setenv("CLINE_API_KEY", CANARY_KEY)
    raw_peer.started_sidecars.clear()
    yield
    for sidecar in raw_peer.started_sidecars:
        assert CANARY_KEY not in json.dumps(sidecar.transcript), "a sidecar wrote the key"
        assert CANARY_KEY.encode() not in sidecar.log, "a sidecar logged the key"
    raw_peer.started_sidecars.clear()
    assert CANARY_KEY not in caplog.text
