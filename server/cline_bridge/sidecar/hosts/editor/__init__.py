"""The editor host: the VS Code extension calls Cline's ClineAPI for the sidecar, and the sidecar
follows what Cline records of its tasks.

``host`` carries out the four operations (``EditorHost``) and guards the buttons with what it
saw; ``records`` reads Cline's session records; ``tracker`` turns them into task events;
``watcher`` watches Cline's data folder for them.
"""

from __future__ import annotations

from cline_bridge.sidecar.hosts.editor.host import EditorHost

__all__ = ["EditorHost"]
