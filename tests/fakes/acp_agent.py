"""A scripted stand-in for ``cline --acp``: newline-delimited JSON-RPC on stdin/stdout.

Run as ``python acp_agent.py SCENARIO``. Standard library only, so that it starts in tens of
milliseconds and cannot share a bug with the sidecar. Every scenario answers:

- ``initialize`` with protocol version 1 and ``loadSession``;
- ``session/new`` with a ``sessionId`` (``fake-<pid>-<n>``);
- ``session/load`` by replaying one user and one agent chunk of the session, then ``{}``;
- ``session/prompt`` with one ``agent_message_chunk`` (``REPLY_TEXT``), then ``end_turn``;
- ``session/cancel`` (a notification) by doing nothing;
- any other request with -32601.

SIGTERM makes it say ``TERM_WORDS`` on stderr and exit with ``TERM_STATUS``; the end of stdin
makes it exit 0. Scenarios change one thing each:

- ``normal``: nothing more;
- ``exit``: says ``EXIT_WORDS`` on stderr and exits with ``EXIT_STATUS`` before reading anything;
- ``auth``: answers ``session/new`` with Cline's "Authentication required" error;
- ``garbage``: writes lines that are not JSON-RPC objects at start and before every answer;
- ``client-request``: during ``session/prompt`` asks the client ``fs/read_text_file`` and waits
  for the answer before answering the prompt;
- ``deaf``: ignores SIGTERM and the end of stdin (stays until killed);
- ``grandchild``: starts a sleeping child process of its own (its pid is recorded);
- ``leak``: prints ``$CLINE_API_KEY`` on stderr at start and at exit, and answers
  ``session/new`` with an error whose message holds it.

When ``ACP_FAKE_RECORD`` names a file, one JSON line is appended to it for the start (pid, cwd,
the sidecar's child-environment defaults, the grandchild's pid) and for every message received,
each with the agent's ``pid``, before the agent acts on it. ``command``, ``read_record`` and
``process_gone`` are for the tests that run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPLY_TEXT = "Hello from the fake agent."
REPLAYED_TEXT = "replayed history"
EXIT_STATUS = 3
EXIT_WORDS = "fake agent: cannot start"
TERM_STATUS = 7
TERM_WORDS = "fake agent: terminated"
AUTH_ERROR = {
    "code": -32000,
    "message": "Authentication required: Call authenticate before starting a session",
}
CLIENT_REQUEST_ID = "agent-1"
GARBAGE = ("this is not JSON", "[1, 2, 3]", "42", "{broken")
RECORDED_ENV = ("CLINE_SESSION_BACKEND_MODE", "CLINE_NO_AUTO_UPDATE")


class FakeAgent:
    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.sessions = 0
        self.record_path = os.environ.get("ACP_FAKE_RECORD")

    def record(self, entry: dict[str, Any]) -> None:
        if self.record_path:
            with open(self.record_path, "a", encoding="utf-8") as file:
                file.write(json.dumps({"pid": os.getpid(), **entry}) + "\n")

    def send(self, message: dict[str, Any]) -> None:
        if self.scenario == "garbage":
            sys.stdout.write("\n".join(GARBAGE) + "\n")
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        sys.stdout.flush()

    def say(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def read(self) -> dict[str, Any] | None:
        """The next message (recorded), or None at the end of stdin."""
        while line := sys.stdin.readline():
            if line.strip():
                message: dict[str, Any] = json.loads(line)
                self.record({"message": message})
                return message
        return None

    def run(self) -> int:
        if self.scenario == "exit":
            self.say(EXIT_WORDS)
            return EXIT_STATUS
        start: dict[str, Any] = {
            "start": self.scenario,
            "cwd": os.getcwd(),
            "env": {name: os.environ.get(name) for name in RECORDED_ENV},
        }
        if self.scenario == "grandchild":
            child = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(60)"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            start["grandchild"] = child.pid
        self.record(start)
        if self.scenario == "leak":
            self.say(f"starting with key {os.environ.get('CLINE_API_KEY')}")
        if self.scenario == "garbage":
            self.send({"method": "session/update", "params": "not an object"})
        while (message := self.read()) is not None:
            if "method" in message and "id" in message:
                self.answer(message["id"], message["method"], message.get("params") or {})
        if self.scenario == "leak":
            self.say(f"bye, key {os.environ.get('CLINE_API_KEY')}")
        if self.scenario == "deaf":
            while True:
                time.sleep(1)
        return 0

    def answer(self, request_id: Any, method: str, params: dict[str, Any]) -> None:
        if method == "initialize":
            self.result(
                request_id, {"protocolVersion": 1, "agentCapabilities": {"loadSession": True}}
            )
        elif method == "session/new" and self.scenario == "auth":
            self.send({"id": request_id, "error": AUTH_ERROR})
        elif method == "session/new" and self.scenario == "leak":
            key = os.environ.get("CLINE_API_KEY")
            self.send({"id": request_id, "error": {"code": -32603, "message": f"bad key {key}"}})
        elif method == "session/new":
            self.sessions += 1
            self.result(request_id, {"sessionId": f"fake-{os.getpid()}-{self.sessions}"})
        elif method == "session/load":
            session_id = params.get("sessionId")
            self.update(session_id, "user_message_chunk", REPLAYED_TEXT)
            self.update(session_id, "agent_message_chunk", REPLAYED_TEXT)
            self.result(request_id, {})
        elif method == "session/prompt":
            if self.scenario == "client-request":
                self.ask_client(params)
            self.update(params.get("sessionId"), "agent_message_chunk", REPLY_TEXT)
            self.result(request_id, {"stopReason": "end_turn"})
        else:
            self.send(
                {"id": request_id, "error": {"code": -32601, "message": f"no method {method}"}}
            )

    def ask_client(self, params: dict[str, Any]) -> None:
        """Send the client a request it does not serve; wait for its answer (recorded)."""
        self.send(
            {
                "id": CLIENT_REQUEST_ID,
                "method": "fs/read_text_file",
                "params": {"sessionId": params.get("sessionId"), "path": "/etc/hostname"},
            }
        )
        while (message := self.read()) is not None:
            if message.get("id") == CLIENT_REQUEST_ID and "method" not in message:
                return

    def update(self, session_id: Any, kind: str, text: str) -> None:
        self.send(
            {
                "method": "session/update",
                "params": {
                    "sessionId": session_id,
                    "update": {"sessionUpdate": kind, "content": {"type": "text", "text": text}},
                },
            }
        )

    def result(self, request_id: Any, result: Any) -> None:
        self.send({"id": request_id, "result": result})


def main() -> int:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "normal"

    def terminated(signal_number: int, frame: object) -> None:
        sys.stderr.write(TERM_WORDS + "\n")
        sys.stderr.flush()
        os._exit(TERM_STATUS)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if scenario == "deaf" else terminated)
    return FakeAgent(scenario).run()


# -- for the tests ---------------------------------------------------------------------------------


def command(scenario: str) -> list[str]:
    """The ``acp.command`` that runs this fake in ``scenario``."""
    return [sys.executable, str(Path(__file__).resolve()), scenario]


def read_record(path: Path) -> list[dict[str, Any]]:
    """What the fake agents recorded in ``path`` (see the module docstring), in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def process_gone(pid: int) -> bool:
    """True once ``pid`` runs no more: no such process, or a zombie nobody reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return True  # another user's process has the pid now: ours is long gone
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


if __name__ == "__main__":
    sys.exit(main())
