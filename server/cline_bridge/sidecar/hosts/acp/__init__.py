"""The ACP host: Cline's four operations run by the real Cline agent, the Cline CLI in ACP mode
(``cline --acp``), a child process of the sidecar.

``host`` carries out the operations (``AcpHost``); ``launch`` decides how the child is started;
``connection`` speaks the Agent Client Protocol with it (newline-delimited JSON-RPC over its
stdio); ``task`` holds one Cline task's state; ``updates`` turns the agent's
``session/update`` notifications into ``clineBridge/taskEvent`` events; ``prompts`` builds the
prompts of a task's text and images; ``feedback`` shows the task in an LSP editor (progress and
approval dialogs). Imported only when the ACP host is chosen.
"""
