"""The control endpoint: scripts on this machine reach the sidecar's commands through it.

``endpoint`` serves the connections; ``service`` starts and stops it with its discovery file
(``wire.discovery``).
"""
