"""The ``cline-bridge`` command line."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from cline_bridge import __version__
from cline_bridge.cli import rest as rest_cli
from cline_bridge.cli import tasks as task_cli

LOG_LEVELS = ("debug", "info", "warning", "error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cline-bridge",
        description="Drive the Cline coding agent from outside its panel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="speak LSP over stdio (what editors start)")
    # vscode-languageclient appends --stdio; stdio is the only transport, so it changes nothing.
    serve.add_argument("--stdio", action="store_true", help="accepted for LSP clients; the default")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="stderr log level")
    serve.add_argument(
        "--control-transport",
        choices=("unix", "tcp"),
        help="how scripts reach this sidecar (default: unix, or tcp on 127.0.0.1 on Windows)",
    )
    task_cli.add_arguments(commands)
    rest_cli.add_arguments(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 success, 1 error, 2 usage error)."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.log_level, args.control_transport)
    if args.command in task_cli.COMMANDS:
        return task_cli.run(args)
    return rest_cli.run(args)


def serve(log_level: str, control_transport: str | None = None) -> int:
    # Importing lsprotocol and building the server allocate a few hundred thousand long-lived
    # objects; with the collector on, they trigger full collections that only find live objects
    # (about 45 ms of start-up). Collect nothing until they exist, then exempt them from collection.
    gc.disable()
    # Imported here so that `--help` and `--version` answer without loading pygls.
    from cline_bridge.sidecar.logs import configure_logging
    from cline_bridge.sidecar.server import create_server
    from cline_bridge.sidecar.stdio import serve_stdio

    configure_logging(log_level)
    server = create_server(control_transport) if control_transport else create_server()
    gc.freeze()
    gc.enable()
    serve_stdio(server)
    return 0
