"""Cline 4's task records, written as the real extension writes them, for tests without it.

The shapes are those the real Cline 4.1.13 wrote in code-server (tests/editors/vscode): a session
folder ``<data>/sessions/<id>/`` with ``<id>.json`` (the manifest) and ``<id>.messages.json``
(messages contract v1), both rewritten whole, in place, at every step. A test drives a
``FakeSession`` through a turn the way Cline goes through it::

    session = FakeSession.start(data_dir, "Create hello.txt", pid=4242)
    session.user("Create hello.txt")
    session.tool_use("call_1", "editor", {"path": "/w/hello.txt", "new_text": "hi"})
    session.set_status("pending")            # waits for approval
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

_numbers = itertools.count(1)


class FakeSession:
    def __init__(self, data_dir: Path, session_id: str, prompt: str, pid: int) -> None:
        self.folder = data_dir / "sessions" / session_id
        self.session_id = session_id
        self.prompt = prompt
        self.pid = pid
        self.status = "running"
        self.messages: list[dict[str, Any]] = []
        self.manifest_version = 1
        self.messages_version = 1
        self.usage: dict[str, Any] | None = None
        """``metadata.usage``, as Cline records it once the model has answered."""

    @classmethod
    def start(
        cls, data_dir: Path, prompt: str, *, pid: int, session_id: str | None = None
    ) -> FakeSession:
        """A new session, as ``startNewTask`` makes one: a running manifest, no messages."""
        session_id = session_id or f"{int(time.time() * 1000)}_{next(_numbers):05d}"
        session = cls(data_dir, session_id, prompt, pid)
        session.folder.mkdir(parents=True)
        session.write()
        return session

    # -- what Cline does ------------------------------------------------------------------------

    def user(self, text: str | None = None, *, images: int = 0) -> None:
        """A prompt: the task's, a message or a resumption, wrapped as Cline wraps it."""
        content: list[dict[str, Any]] = []
        if text is not None:
            content.append({"type": "text", "text": f'<user_input mode="act">{text}</user_input>'})
        content += [{"type": "image", "data": "iVBORw0KGgo=", "mediaType": "image/png"}] * images
        self._message("user", content)

    def assistant(self, *parts: dict[str, Any]) -> None:
        self._message("assistant", list(parts))

    def say(self, text: str) -> None:
        self.assistant({"type": "text", "text": text})

    def tool_use(self, call_id: str, name: str, tool_input: Any) -> None:
        self.assistant({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})

    def tool_result(self, call_id: str, content: Any, *, is_error: bool = False) -> None:
        part: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": call_id,
            "name": "editor",
            "content": json.dumps(content),
        }
        if is_error:
            part["is_error"] = True
        self._message("user", [part])

    def deny(self, call_id: str) -> None:
        """The result Cline records when an edit is rejected."""
        message = "The user denied this edit. The file was NOT modified."
        self.tool_result(call_id, {"error": message}, is_error=True)

    def set_usage(
        self, *, input_tokens: int, output_tokens: int, cost: float = 0.0, cache_read: int = 0
    ) -> None:
        """The task's totals so far, in ``metadata.usage`` (and ``aggregateUsage``, which is the
        same without subagents), as Cline records them after each model request."""
        self.usage = {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "cacheReadTokens": cache_read,
            "cacheWriteTokens": 0,
            "totalCost": cost,
        }
        self.write_manifest()

    def set_status(self, status: str) -> None:
        self.status = status
        self.write_manifest()

    # -- the files ------------------------------------------------------------------------------

    def write(self) -> None:
        self.write_manifest()
        self.write_messages()

    def write_manifest(self) -> None:
        manifest = {
            "version": self.manifest_version,
            "session_id": self.session_id,
            "source": "vscode",
            "pid": self.pid,
            "started_at": "2026-12-02T03:28:19.817Z",
            "exit_code": None,
            "status": self.status,
            "interactive": True,
            "provider": "openai-compatible",
            "model": "fake-model",
            "cwd": "/workspace",
            "workspace_root": "/workspace",
            "enable_tools": True,
            "enable_spawn": False,
            "enable_teams": False,
            "prompt": self.prompt,
            "metadata": self._metadata(),
            "messages_path": str(self.messages_file),
        }
        _write(self.manifest_file, manifest)

    def write_messages(self) -> None:
        payload = {
            "version": self.messages_version,
            "updated_at": "2026-12-02T03:28:27.421Z",
            "agent": "lead",
            "sessionId": self.session_id,
            "origin": {"source": "vscode", "mode": "user", "sessionId": self.session_id},
            "messages": self.messages,
        }
        _write(self.messages_file, payload)

    def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"title": self.prompt}
        if self.usage is not None:
            cost = self.usage["totalCost"]
            metadata |= {
                "totalCost": cost,
                "aggregatedAgentsCost": cost,
                "usage": self.usage,
                "aggregateUsage": self.usage,
            }
        return metadata

    @property
    def manifest_file(self) -> Path:
        return self.folder / f"{self.session_id}.json"

    @property
    def messages_file(self) -> Path:
        return self.folder / f"{self.session_id}.messages.json"

    def _message(self, role: str, content: list[dict[str, Any]]) -> None:
        self.messages.append(
            {"id": f"msg_{next(_numbers)}", "role": role, "content": content, "ts": 1}
        )
        self.write_messages()


def _write(path: Path, data: Any) -> None:
    # In place, as Cline does (writeFileSync): a reader may catch it half-written.
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
