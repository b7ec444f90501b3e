"""The shape of a chat's result on the wire: ``clineBridge.chat``'s result, and what
``cline-bridge chat --json`` prints. The REST client's ``ChatResult`` in, camelCase out, as the
rest of the protocol is written."""

from __future__ import annotations

from typing import Any


def chat_result(result: dict[str, Any]) -> dict[str, Any]:
    """The wire shape of a chat result, from ``ChatResult.model_dump()``."""
    usage = result.get("usage")
    return {
        "id": result.get("id"),
        "model": result.get("model"),
        "text": result.get("text", ""),
        "reasoning": result.get("reasoning", ""),
        "toolCalls": [
            {"id": call["id"], "name": call["name"], "arguments": call["arguments"]}
            for call in result.get("tool_calls", ())
        ],
        "finishReason": result.get("finish_reason"),
        "usage": (
            {
                "promptTokens": usage.get("prompt_tokens"),
                "completionTokens": usage.get("completion_tokens"),
                "totalTokens": usage.get("total_tokens"),
                "cost": usage.get("cost"),
            }
            if usage
            else None
        ),
    }
