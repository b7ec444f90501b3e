"""What is secret, and how it is kept out of what the bridge shows (logs, errors, status).

Shared by the REST client, the sidecar and the CLI: it imports nothing of them.
"""

from __future__ import annotations

SECRET_NAME_WORDS = "key|token|secret|password|credential"
"""A name (a variable, a field) containing one of these words, in any case, holds a secret: its
value is never logged. Used as a regular expression alternative."""


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings; ``reveal()`` it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
