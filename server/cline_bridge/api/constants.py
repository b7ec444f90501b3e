"""Defaults of the REST client, in one place. No imports: the sidecar reads these at start-up."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.cline.bot/api/v1"
DEFAULT_MODEL = "anthropic/claude-sonnet-4-6"
APP_TITLE = "cline-bridge"

CONNECT_TIMEOUT = 5.0
"""Seconds to establish a connection."""
READ_TIMEOUT = 60.0
"""Seconds without a byte from the server, mid-stream included, before the call times out."""

MAX_RETRIES = 3
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 60.0
"""A server asking for a longer wait than this (seconds) fails at once, saying when to try again."""
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
