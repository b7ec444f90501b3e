"""Task hosts: what carries out the four Cline operations for the sidecar.

``EditorHost`` forwards them to the editor, which calls the Cline extension's ClineAPI;
``hosts.acp.host.AcpHost`` runs them in the Cline CLI's ACP mode, for every other editor (imported
only when chosen); ``UnavailableHost`` answers every operation with -32001 and says what to set up.
"""

from __future__ import annotations

from cline_bridge.sidecar.hosts.base import TaskHost
from cline_bridge.sidecar.hosts.editor import EditorHost
from cline_bridge.sidecar.hosts.unavailable import UnavailableHost

__all__ = ["EditorHost", "TaskHost", "UnavailableHost"]
