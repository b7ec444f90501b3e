"""The control endpoint that lets scripts reach a running sidecar, and how they find it."""
