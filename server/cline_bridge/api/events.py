"""Typed events of a streamed chat completion, in the order a stream can yield them.

Plain slotted dataclasses rather than pydantic models: a stream yields thousands of them, and
constructing them is on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cline_bridge.api.models import ToolCall, Usage


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call: ``id`` and ``name`` come with its first piece only."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallsDone:
    """The finished tool calls, merged by index, arguments parsed where they are JSON."""

    tool_calls: list[ToolCall]


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str


ChatEvent = TextDelta | ReasoningDelta | ToolCallDelta | ToolCallsDone | UsageUpdate | Finished
