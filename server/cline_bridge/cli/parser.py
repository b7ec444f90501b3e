"""The ``cline-bridge`` command line's arguments: every subcommand, and nothing it runs.

Kept apart from the subcommands' code so that ``--help`` describes them all while a run loads
only the module of its own subcommand (``cli.main``).
"""

from __future__ import annotations

import argparse

from cline_bridge import __version__
from cline_bridge.api.constants import DEFAULT_BASE_URL, DEFAULT_MODEL
from cline_bridge.wire.names import ENV_BRIDGE

LOG_LEVELS = ("debug", "info", "warning", "error")
TASK_COMMANDS = frozenset({"task", "send", "approve", "reject", "status"})
"""The subcommands that drive a bridge (``cli.tasks``)."""
REST_COMMANDS = frozenset({"chat", "models"})
"""The subcommands that call the REST API directly (``cli.rest``)."""

Subcommands = argparse._SubParsersAction  # argparse names no public type for it


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cline-bridge",
        description="Drive the Cline coding agent from outside its panel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    _add_task_commands(commands)
    _add_rest_commands(commands)
    return parser


def _add_serve(commands: Subcommands[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="speak LSP over stdio (what editors start)")
    # vscode-languageclient appends --stdio; stdio is the only transport, so it changes nothing.
    serve.add_argument("--stdio", action="store_true", help="accepted for LSP clients; the default")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="stderr log level")
    serve.add_argument(
        "--control-transport",
        choices=("unix", "tcp"),
        help="how scripts reach this sidecar (default: unix, or tcp on 127.0.0.1 on Windows)",
    )


def _add_task_commands(commands: Subcommands[argparse.ArgumentParser]) -> None:
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


def _add_rest_commands(commands: Subcommands[argparse.ArgumentParser]) -> None:
    chat = commands.add_parser(
        "chat",
        help="ask the Cline REST API; the answer streams to stdout",
        description="Ask the Cline REST API. Piped stdin is appended to the prompt, e.g. "
        "`git diff | cline-bridge chat 'write a commit message'`. Needs CLINE_API_KEY.",
    )
    chat.add_argument("prompt", nargs="?", help="the question (stdin is appended when piped)")
    chat.add_argument("-m", "--model", help=f"model id (default: $CLINE_MODEL or {DEFAULT_MODEL})")
    chat.add_argument("-s", "--system", help="a system prompt")
    chat.add_argument(
        "--json", action="store_true", help="print the whole result as JSON at the end"
    )
    chat.add_argument(
        "--base-url", help=f"API base URL (default: $CLINE_API_BASE_URL or {DEFAULT_BASE_URL})"
    )
    models = commands.add_parser("models", help="list the models the API key can use")
    models.add_argument("--json", action="store_true", help="print JSON instead of one id per line")
    models.add_argument("--base-url", help="API base URL")
