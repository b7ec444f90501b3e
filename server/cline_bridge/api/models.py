"""Results of the REST API. ``extra="allow"``: the API adds fields without notice."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Usage(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None
    """Total cost in USD, when the API reports it."""
    cached_tokens: int | None = None

    @classmethod
    def from_wire(cls, usage: dict[str, Any]) -> Usage:
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        return cls.model_validate({**usage, "cached_tokens": cached})


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    arguments: str
    """The arguments exactly as the model wrote them (normally a JSON object)."""
    type: str = "function"

    @property
    def parsed_arguments(self) -> Any:
        """The arguments as JSON, or None when the model did not write valid JSON."""
        try:
            return json.loads(self.arguments) if self.arguments else {}
        except ValueError:
            return None

    def to_wire(self) -> dict[str, Any]:
        """The shape the API expects back in an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }


class ChatResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    model: str | None = None
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
