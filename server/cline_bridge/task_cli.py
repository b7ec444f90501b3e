"""``cline-bridge task|send|approve|reject|status``: drive a running sidecar's Cline from a shell.

Each command finds a bridge as ``client.Bridge.connect`` does (``--bridge FILE``, else
``$CLINE_BRIDGE``, else the bridge serving the current directory, else the only one), runs one
command and prints one short line. Exit status: 0 done, 1 error (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cline_bridge.client import Bridge
from cline_bridge.client_errors import BridgeError, BridgeNotFoundError
from cline_bridge.control.discovery import (
    ENV_BRIDGE,
    DiscoveryRecord,
    live_bridges,
    select_bridge,
)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS = frozenset({"task", "send", "approve", "reject", "status"})
"""The sub-commands this module adds and runs."""


def add_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the sub-commands to the ``cline-bridge`` parser."""
    bridge_help = f"the bridge's discovery file (default: ${ENV_BRIDGE}, else found by folder)"
    task = commands.add_parser(
        "task",
        help="start a new Cline task in the running editor",
        description="Start a new Cline task in the editor whose sidecar serves this folder.",
    )
    task.add_argument("text", help="what Cline should do")
    send = commands.add_parser("send", help="send a message to the current Cline task")
    send.add_argument("text", help="the message")
    for parser in (task, send):
        parser.add_argument(
            "-i",
            "--image",
            action="append",
            dest="images",
            metavar="IMAGE",
            help="attach an image file (PNG, JPEG, GIF or WebP) or data URL; repeatable",
        )
    approve = commands.add_parser("approve", help="press Cline's primary button (approve)")
    reject = commands.add_parser("reject", help="press Cline's secondary button (reject)")
    status = commands.add_parser(
        "status", help="list the running bridges; * marks the one these commands reach"
    )
    for parser in (task, send, approve, reject, status):
        parser.add_argument("--bridge", metavar="FILE", help=bridge_help)


def run(args: argparse.Namespace) -> int:
    """Run one of ``COMMANDS``; return the exit status. Errors are one line on stderr."""
    try:
        if args.command == "status":
            return _status(args.bridge, sys.stdout)
        line = asyncio.run(_command(args))
    except BridgeError as error:
        print(f"cline-bridge: {error.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\ncline-bridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(line)
    return EXIT_OK


async def _command(args: argparse.Namespace) -> str:
    async with Bridge.connect(args.bridge) as bridge:
        if args.command == "task":
            result = await bridge.start_new_task(args.text, args.images)
            return f"Task sent to Cline ({_host(result)})."
        if args.command == "send":
            result = await bridge.send_message(args.text, args.images)
            return f"Message sent to Cline ({_host(result)})."
        if args.command == "approve":
            await bridge.press_primary_button()
            return "Approved."
        await bridge.press_secondary_button()
        return "Rejected."


def _host(result: dict[str, Any]) -> str:
    host = result.get("host")
    described = f"{host} host" if isinstance(host, str) else "bridge"
    task_id = result.get("taskId")
    return f"{described}, task {task_id}" if isinstance(task_id, str) else described


def _status(explicit: str | None, out: TextIO) -> int:
    bridges = live_bridges()
    chosen: DiscoveryRecord | None
    try:
        chosen = select_bridge(explicit)[1]
    except BridgeNotFoundError as error:
        if explicit or not bridges:
            print(f"cline-bridge: {error.message}", file=sys.stderr)
            return EXIT_ERROR
        chosen = None  # several, none serving this folder: list them, mark none
    records = [record for _, record in bridges]
    if chosen is not None and all(record.pid != chosen.pid for record in records):
        records.append(chosen)  # named by --bridge or $CLINE_BRIDGE, kept in another folder
    rows = [("", "PID", "HOST", "VERSION", "FOLDERS")]
    for record in records:
        mark = "*" if chosen is not None and record.pid == chosen.pid else ""
        folders = ", ".join(record.workspace_folders) or "(no folder)"
        rows.append((mark, str(record.pid), record.host, record.version, folders))
    _print_table(rows, out)
    if chosen is None:
        print(
            f"cline-bridge: none serves this folder; choose one with --bridge FILE or {ENV_BRIDGE}",
            file=sys.stderr,
        )
    return EXIT_OK


def _print_table(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)
