"""``cline-bridge serve``: the sidecar, speaking LSP over stdio. Loads the sidecar, nothing else."""

from __future__ import annotations

import gc


def run(log_level: str, control_transport: str | None = None) -> int:
    """Serve until the editor is done; the exit status is ``sidecar.stdio.serve_stdio``'s."""
    # Importing lsprotocol and building the server allocate a few hundred thousand long-lived
    # objects; with the collector on, they trigger full collections that only find live objects
    # (about 45 ms of start-up). Collect nothing until they exist, then exempt them from collection.
    gc.disable()
    from cline_bridge.sidecar.logs import configure_logging
    from cline_bridge.sidecar.server import create_server
    from cline_bridge.sidecar.stdio import serve_stdio

    configure_logging(log_level)
    server = create_server(control_transport) if control_transport else create_server()
    gc.freeze()
    gc.enable()
    return serve_stdio(server)
