"""A stand-in for ``cline-bridge serve`` that ``Bridge.headless`` can start: LSP over stdio.

``python fake_sidecar.py RECORD MODE``: appends every message received to RECORD (one JSON per
line). Before answering ``initialize`` it sends a ``window/logMessage`` and a request of its own
(``workspace/configuration``), whose answer it records. MODE ``polite`` answers ``shutdown`` and
exits at ``exit``; ``stubborn`` answers ``initialize`` only and outlives its stdin (ignoring
SIGTERM); ``silent`` never answers.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import Any, BinaryIO


def read(stream: BinaryIO) -> dict[str, Any] | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    assert length is not None
    message = json.loads(stream.read(length))
    assert isinstance(message, dict)
    return message


def send(message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    sys.stdout.buffer.flush()


def main(record: str, mode: str) -> None:
    if mode != "polite":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(record, "a", encoding="utf-8") as log:
        while (message := read(sys.stdin.buffer)) is not None:
            log.write(json.dumps(message) + "\n")
            log.flush()
            method = message.get("method")
            if mode == "silent":
                continue
            if method == "initialize":
                send(
                    {
                        "jsonrpc": "2.0",
                        "method": "window/logMessage",
                        "params": {"type": 3, "message": "hi"},
                    }
                )
                send(
                    {
                        "jsonrpc": "2.0",
                        "id": "s1",
                        "method": "workspace/configuration",
                        "params": {"items": []},
                    }
                )
                result = {
                    "capabilities": {},
                    "serverInfo": {"name": "cline-bridge", "version": "9"},
                }
                send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            elif mode == "stubborn":
                continue
            elif method == "shutdown":
                send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif method == "exit":
                return
    if mode == "stubborn":
        time.sleep(120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
