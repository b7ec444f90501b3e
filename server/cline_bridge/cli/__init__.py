"""The ``cline-bridge`` command line: thin subcommands over the sidecar, the script library and
the REST client.

``parser`` defines every subcommand's arguments; a run then loads only its own subcommand's
module: ``serve`` (the sidecar), ``tasks`` (drive a bridge, ``task --follow`` printed by
``follow``) or ``rest`` (the REST API). ``exits`` holds the exit statuses.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (see ``cli.exits``)."""
    import sys

    from cline_bridge.cli.parser import REST_COMMANDS, TASK_COMMANDS, build_parser

    words = sys.argv[1:] if argv is None else list(argv)
    first = words[0] if words else None
    args = build_parser(first).parse_args(words)
    if args.command in TASK_COMMANDS:
        from cline_bridge.cli import tasks

        return tasks.run(args)
    if args.command in REST_COMMANDS:
        from cline_bridge.cli import rest

        return rest.run(args)
    from cline_bridge.cli import serve

    return serve.run(args.log_level, args.control_transport)
