"""What is secret, and how it is kept out of what the bridge shows (logs, errors, status).

Shared by the REST client, the sidecar and the CLI: it imports nothing of them, and nothing but
the standard library's lightest modules, since the one-shot CLI commands load it too.

Every ``Secret`` registers its value here when it is created; ``redact(text)`` then replaces each
registered value with ``***``. Error messages, error data, log records and what the CLI prints
all pass through it, so a key that some other text echoes (an API's 401 body, an HTTP library's
exception) is blanked wherever it shows.
"""

from __future__ import annotations

import threading
from typing import Any

SECRET_NAME_WORDS = "key|token|secret|password|credential"
"""A name (a variable, a field) containing one of these words, in any case, holds a secret: its
value is never logged. Used as a regular expression alternative."""
REDACTED = "***"
SHORTEST_REDACTED = 8
"""Values shorter than this are not searched for in text: blanking every "k" or "test" would
mangle messages, and a real API key is far longer."""

_lock = threading.Lock()
# Longest first, so that a secret containing another is blanked whole. Replaced, never mutated:
# redact() reads it without the lock.
_known: tuple[str, ...] = ()


def remember_secret(value: str) -> None:
    """Have ``redact`` blank ``value`` from now on, in the process, as typed and as JSON writes
    it (a server echoing the key in a JSON body escapes ``"``, ``\\`` and maybe ``/``)."""
    global _known
    json_escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    forms = {value, json_escaped, json_escaped.replace("/", "\\/")}
    with _lock:
        fresh = {form for form in forms if len(form) >= SHORTEST_REDACTED} - set(_known)
        if fresh:
            _known = tuple(sorted({*_known, *fresh}, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    for secret in _known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_json(value: Any) -> Any:
    """A JSON value with ``redact`` applied to every string in it, keys included. The caller
    bounds its depth (the REST client refuses deeply nested JSON before it gets here)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_json(key): redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings; ``reveal()`` it.

    Creating one registers its value with ``redact``. ``problem`` says why the value cannot be
    used (see ``api_key_from``), in words that never quote it; None when it can.
    """

    __slots__ = ("_value", "problem")

    def __init__(self, value: str, *, problem: str | None = None) -> None:
        self._value = value
        self.problem = problem
        remember_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def api_key_from(value: str | None, source: str) -> Secret | None:
    """The API key found in ``source`` (``CLINE_API_KEY``, ``initializationOptions.apiKey``), as
    it is sent: surrounding whitespace removed (a CRLF .env file, a paste). None when nothing is
    left. A key that no HTTP header can carry (a control character, a space, a character that is
    not ASCII) comes back with its ``problem`` set: the message names the source and the position,
    never the key."""
    if value is None:
        return None
    key = value.strip()
    if not key:
        return None
    found = key_problem(key)
    if found is None:
        return Secret(key)
    index, what = found
    position = index + len(value) - len(value.lstrip()) + 1  # in the value as given, from 1
    return Secret(key, problem=f"{source} holds {what} at position {position}; fix the key")


def key_problem(key: str) -> tuple[int, str] | None:
    """The index and a description of the first character of ``key`` that an HTTP header cannot
    carry in a bearer token, or None when every character is printable ASCII."""
    for index, character in enumerate(key):
        code = ord(character)
        if code < 0x20 or code == 0x7F:
            return index, f"a control character (U+{code:04X})"
        if character == " ":
            return index, "a space"
        if code > 0x7E:
            return index, "a character that is not ASCII"
    return None
