"""A reference: a bare pygls 2 server whose command makes one server→client request.

`bare.forward` sends `bare/ping` to the client, waits for the answer and returns
`{"host": "editor"}`: the message pattern of the sidecar's task commands on the editor host, on
stock pygls. It shows what pygls's threaded stdin reader costs such a round trip (about 2x the
echo), which is why the sidecar reads stdin with asyncio instead
(server/cline_bridge/sidecar/stdio.py).
"""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

server = LanguageServer("forward", "0")


@server.command("bare.forward")
async def forward(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    """Forward the first argument to the client as `bare/ping`, then answer."""
    await ls.protocol.send_request_async("bare/ping", args[0] if args else {})
    return {"host": "editor"}


if __name__ == "__main__":
    server.start_io()
