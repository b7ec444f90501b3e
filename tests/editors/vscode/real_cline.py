"""The real Cline extension in code-server, offline: installed by scripts/install-cline.sh (the
same sources as ``make run``) and pointed, through the files of its data folder, at a fake
OpenAI-compatible model on 127.0.0.1 (tests/fakes/cline_api.py) that speaks native tool calls.

What Cline records of its tasks in that folder is also the tests' oracle (``ClineRecords``): the
bridge's events are checked against it, never against themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.e2e_tools import REPO

INSTALL_SCRIPT = REPO / "scripts" / "install-cline.sh"
MODEL = "fake-model"
"""A model id without "gpt" or "codex": Cline then offers its ``editor`` tool (reference)."""
INSTALL_TIMEOUT = 120.0


@dataclass(frozen=True)
class RealCline:
    """How a test wants the real Cline: its model server, and whether it approves edits itself
    (Cline's default) or waits for an answer (the tests of the buttons)."""

    model_url: str
    """The fake's base URL (``…/api/v1``); Cline's OpenAI-compatible provider gets ``…/v1``."""
    api_key: str
    auto_approve_edits: bool = False

    def configure(self, data_dir: Path) -> None:
        """Write the settings Cline migrates on activation: the provider, the model, no
        onboarding, no telemetry, act mode; the key in ``secrets.json`` (0600)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        base_url = self.model_url.removesuffix("/api/v1") + "/v1"
        state = {
            "actModeApiProvider": "openai",
            "planModeApiProvider": "openai",
            "openAiBaseUrl": base_url,
            "actModeOpenAiModelId": MODEL,
            "planModeOpenAiModelId": MODEL,
            "welcomeViewCompleted": True,
            "telemetrySetting": "disabled",
            "mode": "act",
            "hooksEnabled": False,
            "autoApprovalSettings": {
                "version": 1,
                "enabled": True,
                "actions": {"readFiles": True, "editFiles": self.auto_approve_edits},
            },
        }
        (data_dir / "globalState.json").write_text(json.dumps(state, indent=2))
        secrets = data_dir / "secrets.json"
        secrets.touch(mode=0o600)
        secrets.write_text(json.dumps({"openAiApiKey": self.api_key}))

    def install(self, editor_cli: list[str], environ: Mapping[str, str]) -> str:
        """Install Cline with scripts/install-cline.sh; return where it came from. A failure
        names the three sources (the script's message)."""
        done = subprocess.run(
            ["bash", str(INSTALL_SCRIPT), *editor_cli],
            env=dict(environ), capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
            start_new_session=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClineNotInstalled(done.stderr.strip() or done.stdout.strip())
        return done.stdout.strip()


class ClineNotInstalled(Exception):
    """scripts/install-cline.sh found no source of the real Cline; the message names them."""


class ClineRecords:
    """What the real Cline recorded of its tasks in ``data_dir`` (read-only)."""

    def __init__(self, data_dir: Path) -> None:
        self.sessions = data_dir / "sessions"

    def session_ids(self) -> list[str]:
        """The tasks recorded so far, oldest first."""
        if not self.sessions.is_dir():
            return []
        return sorted(folder.name for folder in self.sessions.iterdir() if folder.is_dir())

    def status(self, session_id: str) -> str | None:
        manifest = self._read(self.sessions / session_id / f"{session_id}.json")
        status = manifest.get("status") if manifest else None
        return status if isinstance(status, str) else None

    def messages(self, session_id: str) -> list[dict[str, Any]]:
        recorded = self._read(self.sessions / session_id / f"{session_id}.messages.json")
        messages = recorded.get("messages") if recorded else None
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    def tool_use_ids(self, session_id: str) -> list[str]:
        """The ids of the tool calls the task made, in order."""
        return [
            part["id"]
            for message in self.messages(session_id)
            for part in message.get("content") or []
            if isinstance(part, dict) and part.get("type") == "tool_use"
        ]

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing, or caught half-written
            return None
        return data if isinstance(data, dict) else None


def cline_environment(root: Path) -> dict[str, str]:
    """The environment that gives an editor and its sidecar a Cline folder of their own."""
    return {"CLINE_DIR": os.fspath(root / "cline")}
