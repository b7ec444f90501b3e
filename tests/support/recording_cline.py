"""Cline 4 behind the extension double: it answers the ClineAPI calls the sidecar forwards and
records each step of the task in Cline's data folder, as the real Cline does
(tests/fakes/cline_records.py), so the sidecar's editor host has records to follow.

A task whose text starts with "Create " edits a file: the edit waits for approval, a primary
button writes it, a secondary button denies it. Any other task, a message or a forced button is
answered in one text turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes.cline_records import FakeSession

CLINE_VERSION = "4.1.13"
APPROVED_EDIT = [
    "started",
    "turnStart",
    "toolCall",
    "approval",
    "approvalResolved",
    "toolCall",
    "toolCall",
    "message",
    "turnEnd",
]
"""The event kinds of a "Create ..." task whose edit is approved (the tool call goes pending,
in_progress, completed)."""
REJECTED_EDIT = [kind for index, kind in enumerate(APPROVED_EDIT) if index != 5]
"""The same with the edit rejected: the tool call goes from pending to failed."""
EDIT_CALL = "call_1"
RESUMPTION = "[TASK RESUMPTION] Please continue where you left off."


class RecordingCline:
    """Use as ``ClineDouble.acts``; ``sessions`` are the tasks it recorded, newest last."""

    def __init__(self, data_dir: Path, workspace: Path, window_pid: int) -> None:
        self.data_dir = data_dir
        self.workspace = workspace
        self.window_pid = window_pid
        self.sessions: list[FakeSession] = []

    @property
    def options(self) -> dict[str, Any]:
        """The ``initializationOptions`` of an editor whose Cline this is."""
        return {
            "clineApi": True,
            "cline": {"version": CLINE_VERSION, "extensionHostPid": self.window_pid},
        }

    @property
    def session(self) -> FakeSession:
        return self.sessions[-1]

    def __call__(self, method: str, params: Any) -> None:
        if method == "clineBridge/startNewTask":
            self._start(str(params.get("task", "")))
        elif method == "clineBridge/sendMessage":
            self._turn(str(params.get("message", "")), "Noted.")
        elif self.sessions and self.session.status == "pending":
            self._answer_edit(allow=method == "clineBridge/pressPrimaryButton")
        elif self.sessions:  # a button with nothing waiting: Cline resumes the task
            self._turn(RESUMPTION, "Continuing.")

    def edit_path(self, task: str) -> Path:
        """The file a "Create NAME" task edits."""
        return self.workspace / task.removeprefix("Create ").split()[0]

    def _start(self, task: str) -> None:
        session = FakeSession.start(self.data_dir, task, pid=self.window_pid)
        self.sessions.append(session)
        if not task:
            session.set_status("idle")
            return
        session.user(task)
        if task.startswith("Create "):
            edit = {"path": str(self.edit_path(task)), "new_text": "hello\n"}
            session.tool_use(EDIT_CALL, "editor", edit)
            session.set_status("pending")
        else:
            session.say("Hello.")
            session.set_status("idle")

    def _answer_edit(self, *, allow: bool) -> None:
        session = self.session
        session.set_status("running")
        if allow:
            path = self.edit_path(session.prompt)
            path.write_text("hello\n", encoding="utf-8")
            session.tool_result(EDIT_CALL, {"result": f"File created: {path}", "success": True})
            session.say(f"Created {path.name}.")
        else:
            session.deny(EDIT_CALL)
            session.say("I will not create it.")
        session.set_status("idle")

    def _turn(self, text: str, answer: str) -> None:
        session = self.session
        session.set_status("running")
        session.user(text)
        session.say(answer)
        session.set_status("idle")
