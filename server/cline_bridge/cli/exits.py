"""The exit statuses of ``cline-bridge``, one set for every subcommand."""

from __future__ import annotations

EXIT_OK = 0
"""Done: the command did what it was asked (a followed task ended its turn well)."""
EXIT_ERROR = 1
"""An error, said in one line on stderr (a followed task failed or was cancelled)."""
EXIT_USAGE = 2
"""The command line was wrong (argparse uses it too)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as shells report it."""
