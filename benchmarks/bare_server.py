"""The baseline: a bare pygls 2 server with one command, `bare.echo`, that returns its arguments."""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

server = LanguageServer("bare", "0")


@server.command("bare.echo")
def echo(ls: LanguageServer, *args: Any) -> list[Any]:
    """Return the command's arguments unchanged."""
    return list(args)


if __name__ == "__main__":
    server.start_io()
