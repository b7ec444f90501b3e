"""The Cline CLI in ACP mode (``cline --acp``) as a child process of the sidecar.

``launch`` decides how the child is started, ``connection`` speaks the Agent Client Protocol with it
(newline-delimited JSON-RPC over its stdio), ``task`` holds one Cline task's state, ``updates``
turns the agent's ``session/update`` notifications into ``clineBridge/taskEvent`` events. The
operations themselves live in ``hosts.acp``.
"""
