"""The sidecar: the language server (pygls) that editors start with ``cline-bridge serve``.

Everything that imports pygls or lsprotocol lives here, and nothing outside imports it but
``cline-bridge serve``. ``server`` builds the server from the ``features``; ``hosts`` run Cline's
four operations (the editor's ClineAPI, or the Cline CLI over ACP); ``control`` is the endpoint
through which scripts reach the same commands.
"""
