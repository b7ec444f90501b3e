"""Helpers for the REST client tests: a client aimed at the fake, and stream collection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from cline_bridge.api import ChatResult, ClineClient
from cline_bridge.api.errors import ClineAPIError
from cline_bridge.api.events import ChatEvent, ReasoningDelta, TextDelta
from tests.fakes.cline_api import FakeClineAPI

T = TypeVar("T")

TIMEOUT = 10.0
"""Upper bound for any single wait in these tests."""
MODEL = "anthropic/claude-sonnet-4-6"
HELLO = [{"role": "user", "content": "hi"}]


def make_client(target: FakeClineAPI | str, **overrides: Any) -> ClineClient:
    """A client of the fake (or of a base URL) with fast backoff; keywords override defaults."""
    options: dict[str, Any] = {
        "api_key": "k",
        "base_url": target if isinstance(target, str) else target.url,
        "max_retries": 3,
        "timeout": httpx.Timeout(5.0, connect=2.0),
        "app_title": "cline-bridge",
        "backoff_base": 0.01,
    }
    options.update(overrides)
    return ClineClient(**options)


async def bounded(awaitable: Awaitable[T], timeout: float = TIMEOUT) -> T:
    return await asyncio.wait_for(awaitable, timeout)


@dataclass
class Outcome:
    """What a consumer of ``stream_chat`` saw: the events, then a result or an error."""

    events: list[ChatEvent] = field(default_factory=list)
    result: ChatResult | None = None
    error: ClineAPIError | None = None

    @property
    def text(self) -> str:
        return "".join(event.text for event in self.events if isinstance(event, TextDelta))

    @property
    def reasoning(self) -> str:
        return "".join(event.text for event in self.events if isinstance(event, ReasoningDelta))

    def of(self, kind: type[T]) -> list[T]:
        return [event for event in self.events if isinstance(event, kind)]


async def stream(client: ClineClient, **kwargs: Any) -> Outcome:
    """Consume one ``stream_chat`` to its end; an API error is caught and kept, after the events."""
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", HELLO)
    outcome = Outcome()

    async def consume() -> None:
        async with client.stream_chat(**kwargs) as chat:
            try:
                async for event in chat:
                    outcome.events.append(event)
            except ClineAPIError as error:
                outcome.error = error
            outcome.result = chat.result

    await bounded(consume())
    return outcome


async def wait_event(event: threading.Event, timeout: float = TIMEOUT) -> bool:
    """Wait for a threading.Event without blocking the loop."""
    return await asyncio.to_thread(event.wait, timeout)


async def failure(client: ClineClient, kind: str) -> ClineAPIError:
    """Make one call that must fail: ``stream`` (stream_chat), ``plain`` (chat) or ``models``
    (list_models). Return its error."""
    if kind == "stream":
        outcome = await stream(client)
        assert outcome.error is not None, "the stream did not fail"
        return outcome.error
    try:
        if kind == "plain":
            await bounded(client.chat(model=MODEL, messages=HELLO))
        else:
            await bounded(client.list_models())
    except ClineAPIError as error:
        return error
    raise AssertionError(f"the {kind} call did not fail")
