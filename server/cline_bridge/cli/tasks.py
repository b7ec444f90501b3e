"""``cline-bridge task|send|approve|reject|status``: drive a running sidecar's Cline from a shell.

Each command finds a bridge as the script library does (``--bridge FILE``, else
``$CLINE_BRIDGE``, else the bridge serving the current directory, else the only one), runs one
command over a blocking connection (``client.blocking``: no event loop to start) and prints one
short line. ``task --follow`` instead subscribes with an asyncio ``client.Bridge`` and prints the
task's events until its turn ends (see ``follow``); ``task --headless`` starts a private sidecar
instead of finding one (``Bridge.headless``) and follows. Exit statuses: ``cli.exits``.
"""

from __future__ import annotations

import json
import os
import sys

from cline_bridge.cli import wording
from cline_bridge.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from cline_bridge.client import blocking
from cline_bridge.wire.discovery import DiscoveryRecord, live_bridges, select_bridge
from cline_bridge.wire.errors import BridgeError, BridgeNotFoundError
from cline_bridge.wire.names import ENV_BRIDGE

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import TextIO


STATUS_TIMEOUT = 5.0
"""Seconds ``status`` waits for the chosen bridge to say how it is."""


def run(args: argparse.Namespace) -> int:
    """Run one of ``parser.TASK_COMMANDS``; return the exit status. Errors: one line on stderr."""
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
            import asyncio  # only a followed task needs an event loop

            return asyncio.run(_follow(args))
        line = _command(args)
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
    from cline_bridge.cli import terminal
    from cline_bridge.cli.answers import StdinLines
    from cline_bridge.cli.follow import FollowSettings, follow_task
    from cline_bridge.client.bridge import Bridge

    # Subscribed before the task starts: its first events may beat the command's answer.
    opening = (
        Bridge.headless() if args.headless else Bridge.connect(args.bridge, subscribe_events=True)
    )
    async with opening as bridge:
        result = await bridge.start_new_task(args.text, args.images)
        if not args.json:
            print(f"Task sent to Cline ({wording.host(result)}).", flush=True)
        task_id = result.get("taskId")
        if not isinstance(task_id, str):
            why = (
                "Cline did not record the task in time"
                if "taskId" in result
                else "this bridge's host sends no task events"
            )
            print(f"cline-bridge: {why}; follow the task in the editor", file=sys.stderr)
            return EXIT_OK
        asks_here = not args.json and not args.yes and StdinLines.can_ask(0)
        folders = bridge.record.workspace_folders if bridge.record is not None else ()
        settings = FollowSettings(
            json_lines=args.json,
            auto_approve=args.yes,
            answers=StdinLines(0) if asks_here else None,
            reject_unanswered=args.headless,
            color=terminal.wants_color(args.color, sys.stdout),
            progress=terminal.is_terminal(sys.stdout) and os.environ.get("TERM") != "dumb",
            task_folder=folders[0] if folders else None,
        )
        return await follow_task(bridge, task_id, out=sys.stdout, err=sys.stderr, settings=settings)


def _command(args: argparse.Namespace) -> str:
    if args.command == "task":
        result = blocking.start_new_task(args.text, args.images, bridge=args.bridge)
        return f"Task sent to Cline ({wording.host(result)})."
    if args.command == "send":
        return wording.sent(blocking.send_message(args.text, args.images, bridge=args.bridge))
    press = blocking.approve if args.command == "approve" else blocking.reject
    result = press(force=args.force, bridge=args.bridge)
    if args.json:
        return json.dumps(result, ensure_ascii=False)
    return wording.pressed(args.command, result)


def _status(explicit: str | None, out: TextIO) -> int:
    """The live bridges, the chosen one marked; then what the chosen one says of its task
    events (it is asked; the others are only listed)."""
    bridges = live_bridges()
    chosen: DiscoveryRecord | None
    try:
        chosen_file, chosen = select_bridge(explicit)
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
    out.flush()  # the table stays, whatever the bridge answers
    status = blocking.status(bridge=chosen_file, timeout=STATUS_TIMEOUT)
    print(f"\n{wording.events(status)}", file=out)
    return EXIT_OK


def _print_table(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)
