"""``cline-bridge task|send|approve|reject|status``: drive a running sidecar's Cline from a shell.

Each command finds a bridge as ``client.Bridge.connect`` does (``--bridge FILE``, else
``$CLINE_BRIDGE``, else the bridge serving the current directory, else the only one), runs one
command and prints one short line. ``task --follow`` then prints the task's events until its turn
ends (see ``follow``); ``task --headless`` starts a private sidecar instead of finding one
(``Bridge.headless``) and follows. Exit status: 0 done, 1 error (one line on stderr), 2 usage,
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cline_bridge.cli.follow import FollowSettings, StdinLines, follow_task
from cline_bridge.client import Bridge
from cline_bridge.wire.discovery import (
    ENV_BRIDGE,
    DiscoveryRecord,
    live_bridges,
    select_bridge,
)
from cline_bridge.wire.errors import BridgeError, BridgeNotFoundError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS = frozenset({"task", "send", "approve", "reject", "status"})
"""The sub-commands this module adds and runs."""


def add_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the sub-commands to the ``cline-bridge`` parser."""
    bridge_help = f"the bridge's discovery file (default: ${ENV_BRIDGE}, else found by folder)"
    task = commands.add_parser(
        "task",
        help="start a new Cline task in the running editor (or, --headless, here)",
        description="Start a new Cline task in the editor whose sidecar serves this folder. "
        "With --follow, print the task as it runs (the Cline CLI host streams its messages, tool "
        "calls and approvals) and ask each approval on this terminal; exit 0 when the turn ends, "
        "1 if it fails or is cancelled. With --headless, no editor is needed: a private sidecar "
        "for this folder runs the task in the Cline CLI ($CLINE_BRIDGE_ACP_COMMAND, else "
        "`cline --acp`) and stops with this command.",
    )
    task.add_argument("text", help="what Cline should do")
    task.add_argument(
        "--follow",
        action="store_true",
        help="print the task's messages and tool calls until its turn ends; approvals are asked "
        "here (y/N, from the terminal or a pipe); Ctrl-C stops following, not the task",
    )
    task.add_argument(
        "--yes",
        action="store_true",
        help="with --follow: approve every tool call Cline asks about, and say so",
    )
    task.add_argument(
        "--json",
        action="store_true",
        help="with --follow: print each task event as one line of JSON, nothing else on stdout; "
        "approvals are not asked here but left to others (the editor, cline-bridge approve or "
        "reject) unless --yes; --headless rejects them",
    )
    task.add_argument(
        "--headless",
        action="store_true",
        help="no editor: start a private sidecar in this folder that runs the task in the Cline "
        "CLI; implies --follow; the task stops when this command ends",
    )
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
    following = args.command == "task" and (args.follow or args.headless)
    if args.command == "task":
        problem = _task_usage(args)
        if problem:
            print(f"cline-bridge task: {problem}", file=sys.stderr)
            return EXIT_USAGE
    try:
        if args.command == "status":
            return _status(args.bridge, sys.stdout)
        if following:
            return asyncio.run(_follow(args))
        line = asyncio.run(_command(args))
    except BridgeError as error:
        print(f"cline-bridge: {error.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        if not following:
            reason = "interrupted"
        elif args.headless:
            reason = "interrupted; the headless sidecar stopped, and its task with it"
        else:
            reason = "stopped following; the task goes on in the bridge"
        print(f"\ncline-bridge: {reason}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(line)
    return EXIT_OK


def _task_usage(args: argparse.Namespace) -> str | None:
    if args.headless and args.bridge:
        return "--headless starts its own sidecar: it takes no --bridge"
    if (args.yes or args.json) and not (args.follow or args.headless):
        return "--yes and --json need --follow (or --headless)"
    return None


async def _follow(args: argparse.Namespace) -> int:
    """``task --follow`` / ``--headless``: subscribe, start the task, print it until it ends."""
    # Subscribed before the task starts: its first events may beat the command's answer.
    opening = (
        Bridge.headless() if args.headless else Bridge.connect(args.bridge, subscribe_events=True)
    )
    async with opening as bridge:
        result = await bridge.start_new_task(args.text, args.images)
        if not args.json:
            print(f"Task sent to Cline ({_host(result)}).", flush=True)
        task_id = result.get("taskId")
        if not isinstance(task_id, str):
            print(
                "cline-bridge: this bridge's host sends no task events; follow the task in the "
                "editor",
                file=sys.stderr,
            )
            return EXIT_OK
        asks_here = not args.json and not args.yes and StdinLines.can_ask(0)
        settings = FollowSettings(
            json_lines=args.json,
            auto_approve=args.yes,
            answers=StdinLines(0) if asks_here else None,
            reject_unanswered=args.headless,
        )
        return await follow_task(bridge, task_id, out=sys.stdout, err=sys.stderr, settings=settings)


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
