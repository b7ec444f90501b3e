"""Fixtures: a private runtime folder, live and dead pids, a fake control endpoint and its
discovery file (``tests.support.discovery_fixtures``)."""

from __future__ import annotations

from tests.support.discovery_fixtures import bridge_file, dead_pid, fake, live_pid, runtime

__all__ = ["bridge_file", "dead_pid", "fake", "live_pid", "runtime"]
