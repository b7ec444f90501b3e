"""Defaults of the REST client, in one place. No imports: the sidecar reads these at start-up."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.cline.bot/api/v1"
DEFAULT_MODEL = "anthropic/claude-sonnet-4-6"
APP_TITLE = "cline-bridge"

# -- time bounds (seconds) -----------------------------------------------------------------------

CONNECT_TIMEOUT = 10.0
"""To establish a connection (TCP and TLS): generous for a slow network, short for a dead host."""
FIRST_BYTE_TIMEOUT = 60.0
"""From the start of a request (connection and upload included) to the response's headers. The
gateway answers a streamed request at once, before the model runs; a minute of silence means it
is stuck. Not applied to a non-streamed ``chat``, whose answer comes whole once the model is done:
only the deadline bounds that."""
IDLE_TIMEOUT = 90.0
"""Between two data events of a stream (and between two reads of any other body). SSE comments
(``: keep-alive``) do not count: a gateway that only pings is as stuck as a silent one. A reasoning
model may think for a minute before its first token, hence more than the first-byte bound."""
DEADLINE = 600.0
"""For a whole call, retries and their waits included: a streamed chat, a plain chat, /models.
Ten minutes holds a long streamed answer; past it the call fails with what it had."""

# -- size bounds (bytes, after decompression) ----------------------------------------------------

MAX_ERROR_BODY = 64 * 1024
"""Of an error response's body, only this much is read: enough for any JSON error, and a
decompression bomb stops here."""
MAX_BODY = 16 * 1024 * 1024
"""A non-streamed answer (a completion, the model list) larger than this is refused."""
MAX_SSE_LINE = 8 * 1024 * 1024
"""The longest line of a stream, and the most data one event may join from its lines. A chunk is
rarely over a few KiB; this leaves room for a model that sends a large tool call or an image at
once."""
MAX_STREAM_BODY = 256 * 1024 * 1024
"""A whole stream: a long answer is a few MiB of chunks; a server that never stops is cut here."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in any JSON the API sends (a chunk is about
six deep). Deeper JSON is refused before it can exhaust the stack of the parser or its readers."""

# -- retries -------------------------------------------------------------------------------------

MAX_RETRIES = 3
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 60.0
"""A server asking for a longer wait than this (seconds) fails at once, saying when to try again."""
LONGEST_WAIT = 31 * 86400.0
"""A wait read from a header or a message is clamped to this (a monthly quota's reset): ``inf``,
``1e20`` or a reset in the year 5000 must give a clear error, not an overflow."""
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
