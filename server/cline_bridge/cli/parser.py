"""The ``cline-bridge`` command line's arguments: every subcommand, and nothing it runs.

Kept apart from the subcommands' code so that ``--help`` describes them all while a run loads
only the module of its own subcommand (``cli.main``).
"""

from __future__ import annotations

import argparse

from cline_bridge import __version__
from cline_bridge.cli.screen import terminal_size
from cline_bridge.wire.names import ENV_BRIDGE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

LOG_LEVELS = ("debug", "info", "warning", "error")
TASK_COMMANDS = frozenset({"task", "send", "approve", "reject", "status"})
"""The subcommands that drive a bridge (``cli.tasks``)."""
REST_COMMANDS = frozenset({"chat", "models"})
"""The subcommands that call the REST API directly (``cli.rest``)."""

Subcommands = argparse._SubParsersAction  # argparse names no public type for it


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal's width.

    argparse asks ``shutil.get_terminal_size()``, importing shutil (and with it bz2, lzma and
    zlib) as the first argument is defined, since it formats each one as it is added: a one-shot
    command paid that on every run for help it never prints. The width is the same.
    """

    def __init__(self, prog: str, **options: Any) -> None:
        options.setdefault("width", terminal_size().columns - 2)  # argparse's own margin
        super().__init__(prog, **options)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose subcommands' parsers are ``_Parser``s too, all with
    ``_HelpFormatter``."""

    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **options)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` (a subcommand's name), only that subcommand's.

    A run knows its subcommand from its first word (``main``), and defining every other one's
    arguments would cost it as much as its own work (argparse formats each argument as it is
    added). Anything else, ``--help`` or a typo, gets the whole parser and its messages.
    """
    parser = _Parser(
        prog="cline-bridge",
        description="Drive the Cline coding agent from outside its panel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in _SUBCOMMANDS.items():
        if command is None or command not in _SUBCOMMANDS or name == command:
            add(subcommands)
    return parser


def _add_serve(commands: Subcommands[_Parser]) -> None:
    serve = commands.add_parser("serve", help="speak LSP over stdio (what editors start)")
    # vscode-languageclient appends --stdio; stdio is the only transport, so it changes nothing.
    serve.add_argument("--stdio", action="store_true", help="accepted for LSP clients; the default")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="stderr log level")
    serve.add_argument(
        "--control-transport",
        choices=("unix", "tcp"),
        help="how scripts reach this sidecar (default: unix, or tcp on 127.0.0.1 on Windows)",
    )


def _add_task(commands: Subcommands[_Parser]) -> None:
    task = commands.add_parser(
        "task",
        help="start a new Cline task in the running editor (or, --headless, here)",
        description="Start a new Cline task in the editor whose sidecar serves this folder. "
        "With --follow, print the task as it runs (Cline's messages, tool calls and approvals, in "
        "VS Code from Cline 4's records) and ask each approval on this terminal; exit 0 when the "
        "turn ends, "
        "1 if it fails or is cancelled. With --headless, no editor is needed: a private sidecar "
        "for this folder runs the task in the Cline CLI ($CLINE_BRIDGE_ACP_COMMAND, else "
        "`cline --acp`) and stops with this command.",
    )
    task.add_argument("text", help="what Cline should do")
    task.add_argument(
        "--follow",
        action="store_true",
        help="print the task's messages and tool calls until its turn ends; approvals show the "
        "diff or the command and are asked here (y/N, d for the whole diff, ? for help; from the "
        "terminal or a pipe); Ctrl-C stops following, not the task",
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
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        metavar="WHEN",
        help="colour what --follow prints: auto (the default: a terminal, unless NO_COLOR is "
        "set; anything, if FORCE_COLOR is), always or never",
    )
    task.add_argument(
        "--headless",
        action="store_true",
        help="no editor: start a private sidecar in this folder that runs the task in the Cline "
        "CLI; implies --follow; the task stops when this command ends",
    )
    _add_images(task)
    _add_bridge(task)


def _add_send(commands: Subcommands[_Parser]) -> None:
    send = commands.add_parser("send", help="send a message to the current Cline task")
    send.add_argument("text", help="the message")
    _add_images(send)
    _add_bridge(send)


def _add_approve(commands: Subcommands[_Parser]) -> None:
    approve = commands.add_parser(
        "approve",
        help="approve what Cline waits for (its primary button)",
        description="Approve the tool call Cline waits for, as its primary button does, and say "
        "what was approved. With nothing waiting, nothing is pressed (exit 0): Cline would "
        "take the press as 'go on' and start a new turn.",
    )
    _add_button_options(approve)


def _add_reject(commands: Subcommands[_Parser]) -> None:
    reject = commands.add_parser(
        "reject",
        help="reject what Cline waits for (its secondary button)",
        description="Reject the tool call Cline waits for, as its secondary button does (the "
        "Cline CLI host also stops a running turn), and say what was rejected. With nothing "
        "waiting, nothing is pressed (exit 0).",
    )
    _add_button_options(reject)


def _add_button_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="press even with nothing waiting: Cline then goes on with the task (a new turn)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the bridge's result as JSON instead of a line"
    )
    _add_bridge(parser)


def _add_status(commands: Subcommands[_Parser]) -> None:
    status = commands.add_parser(
        "status", help="list the running bridges; * marks the one these commands reach"
    )
    _add_bridge(status)


def _add_images(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--image",
        action="append",
        dest="images",
        metavar="IMAGE",
        help="attach an image file (PNG, JPEG, GIF or WebP) or data URL; repeatable",
    )


def _add_bridge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bridge",
        metavar="FILE",
        help=f"the bridge's discovery file (default: ${ENV_BRIDGE}, else found by folder)",
    )


def _add_chat(commands: Subcommands[_Parser]) -> None:
    from cline_bridge.api.constants import DEFAULT_BASE_URL, DEFAULT_MODEL

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


def _add_models(commands: Subcommands[_Parser]) -> None:
    models = commands.add_parser("models", help="list the models the API key can use")
    models.add_argument("--json", action="store_true", help="print JSON instead of one id per line")
    models.add_argument("--base-url", help="API base URL")


_SUBCOMMANDS: dict[str, Callable[[Subcommands[_Parser]], None]] = {
    "serve": _add_serve,
    "task": _add_task,
    "send": _add_send,
    "approve": _add_approve,
    "reject": _add_reject,
    "status": _add_status,
    "chat": _add_chat,
    "models": _add_models,
}
"""Each subcommand, in the order ``--help`` lists them."""
