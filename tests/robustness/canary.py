"""The secret every sidecar of the robustness tier holds, so that each case can check that none
of what it captured shows it."""

from __future__ import annotations

CANARY_KEY = "sk-canary-ROBUSTNESS-never-shown-0042"
"""An API key: inherited as ``CLINE_API_KEY`` by the sidecars a case starts with the test's own
environment, and added to the environments the cases build."""
