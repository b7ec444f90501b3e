"""The wire floor: what the sidecar, the script library and the CLI all speak, without pygls.

``names``: the command and method names and error codes of the wire contract (docs/protocol.md).
``errors``: the protocol's errors, one class per error code, raised on both sides of the wire.
``discovery``: the discovery files through which scripts find a running sidecar.
"""
